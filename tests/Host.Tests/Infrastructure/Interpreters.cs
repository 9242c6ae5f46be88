namespace PyPE.Host.Tests.Infrastructure;

/// <summary>The CPython 3.6+ interpreters on this machine: the pyenv versions folder, plus /usr/bin/python3.</summary>
internal static class Interpreters
{
    public static IReadOnlyList<(Version Version, string Path)> Pyenv { get; } = Discover();

    public static TheoryData<string> AllForTheory()
    {
        var data = new TheoryData<string>();
        foreach (var (_, path) in Pyenv)
        {
            data.Add(path);
        }

        if (File.Exists("/usr/bin/python3"))
        {
            data.Add("/usr/bin/python3");
        }

        return data;
    }

    private static List<(Version, string)> Discover()
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

        return [.. Directory.EnumerateDirectories(versions)
            .Select(d => (Ok: Version.TryParse(Path.GetFileName(d), out var v), Version: v!, Path: Path.Combine(d, "bin", "python3")))
            .Where(x => x.Ok && x.Version.Major == 3 && x.Version.Minor >= 6 && File.Exists(x.Path))
            .Select(x => (x.Version, x.Path))
            .OrderBy(x => x.Version)];
    }
}
