using System.Globalization;

namespace PyPE.Supervisor.Runtimes;

/// <summary>
/// Finds CPython 3.6+ installs under the pyenv versions folder. Each becomes a runtime whose id is its
/// major and minor version without the dot (<c>3.12.1</c> → <c>312</c>); the newest micro version wins.
/// </summary>
internal static class PyenvDiscovery
{
    public static IEnumerable<RuntimeDefinition> Discover()
    {
        var root = Environment.GetEnvironmentVariable("PYENV_ROOT");
        if (string.IsNullOrEmpty(root))
        {
            root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".pyenv");
        }

        var versions = Path.Combine(root, "versions");
        if (!Directory.Exists(versions))
        {
            return [];
        }

        var found = new Dictionary<string, (Version Version, RuntimeDefinition Runtime)>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(versions))
        {
            // Only plain CPython versions ("3.12.1"); pyenv also holds virtualenvs and other implementations.
            if (!Version.TryParse(Path.GetFileName(dir), out var version) || version.Major != 3 || version.Minor < 6)
            {
                continue;
            }

            var python = Path.Combine(dir, "bin", "python3");
            if (!File.Exists(python))
            {
                continue;
            }

            var id = string.Create(CultureInfo.InvariantCulture, $"{version.Major}{version.Minor}");
            if (found.TryGetValue(id, out var existing) && existing.Version >= version)
            {
                continue;
            }

            found[id] = (version, new RuntimeDefinition { Id = id, Python = python, Version = version.ToString(3), Origin = "pyenv" });
        }

        return found.Values.Select(v => v.Runtime);
    }
}
