using PyPE.Supervisor.Runtimes;

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

    // The same discovery the host uses, so the tests cover exactly the interpreters the host would register.
    private static List<(Version, string)> Discover() =>
        [.. PyenvDiscovery.Discover().Select(r => (Version.Parse(r.Version!), r.Python)).OrderBy(x => x.Item1)];
}
