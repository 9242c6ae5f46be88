namespace PyPE.Supervisor.Runtimes;

/// <summary>
/// When CPython versions stop getting security fixes (python.org's release schedule; PEP 602: five years
/// from the x.y.0 release, end of October for 3.9 and later). <c>PyPE:Runtimes:&lt;id&gt;:EndOfSupport</c>
/// overrides it, for a distribution that supports its Python longer.
/// </summary>
public static class EndOfSupport
{
    private static readonly Dictionary<(int Major, int Minor), DateOnly> CPython = new()
    {
        [(3, 6)] = new(2021, 12, 23),
        [(3, 7)] = new(2023, 6, 27),
        [(3, 8)] = new(2024, 10, 7),
        [(3, 9)] = new(2025, 10, 31),
        [(3, 10)] = new(2026, 10, 31),
        [(3, 11)] = new(2027, 10, 31),
        [(3, 12)] = new(2028, 10, 31),
        [(3, 13)] = new(2029, 10, 31),
        [(3, 14)] = new(2030, 10, 31),
    };

    /// <summary>The end of security support of Python <paramref name="version"/> (e.g. "3.11.2"), or null when unknown.</summary>
    public static DateOnly? Of(string? version) =>
        System.Version.TryParse(version, out var parsed) && CPython.TryGetValue((parsed.Major, parsed.Minor), out var date) ? date : null;
}
