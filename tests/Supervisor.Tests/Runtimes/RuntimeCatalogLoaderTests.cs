using Microsoft.Extensions.Configuration;
using PyPE.Supervisor.Runtimes;
using PyPE.Supervisor.Tests.TestSupport;

namespace PyPE.Supervisor.Tests.Runtimes;

public sealed class RuntimeCatalogLoaderTests : IDisposable
{
    private const string SystemPython = "/usr/bin/python3";
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static Task<RuntimeCatalog> LoadAsync(Dictionary<string, string?> settings) =>
        RuntimeCatalogLoader.LoadAsync(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), discoverPyenv: false, CancellationToken.None);

    /// <summary>A stand-in interpreter: a script that prints <paramref name="output"/> whatever it is asked.</summary>
    private string FakeInterpreter(string name, string output, int exitCode = 0)
    {
        var path = _temp.WriteFile(Path.Combine("bin", name), $"#!/bin/sh\necho '{output}'\nexit {exitCode}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_InterpreterMissing_ListsTheRuntimeWithAnError_NotAConfigError()
    {
        var catalog = await LoadAsync(new() { ["PyPE:Runtimes:39:Python"] = "/opt/python39/bin/python3" });

        var runtime = catalog.Runtimes["39"];
        Assert.Contains("'/opt/python39/bin/python3' does not exist", runtime.Error, StringComparison.Ordinal);
        // Not a configuration mistake: the host starts, and only the apps on this runtime are rejected.
        Assert.Empty(catalog.Errors);
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_RealInterpreter_GetsItsVersion()
    {
        var catalog = await LoadAsync(new()
        {
            ["PyPE:Runtimes:311:Python"] = SystemPython,
            ["PyPE:Runtimes:311:PythonPath:0"] = "/opt/libs/311",
            ["PyPE:Runtimes:311:PythonPath:1"] = "/opt/libs/common",
        });

        Assert.Empty(catalog.Errors);
        var runtime = catalog.Runtimes["311"];
        Assert.Null(runtime.Error);
        Assert.Matches(@"^3\.\d+\.\d+$", runtime.Version);
        Assert.Equal("configuration", runtime.Origin);
        Assert.Equal(["/opt/libs/311", "/opt/libs/common"], runtime.PythonPath);
        // /usr/bin/python3 is also there as "system" without being configured.
        Assert.Equal(runtime.Version, catalog.Runtimes["system"].Version);
        Assert.Equal("default", catalog.Runtimes["system"].Origin);
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_PythonPathAsOneString_IsSplitOnColons()
    {
        var catalog = await LoadAsync(new()
        {
            ["PyPE:Runtimes:311:Python"] = SystemPython,
            ["PyPE:Runtimes:311:PythonPath"] = "/opt/libs/311::/opt/libs/common",
        });

        Assert.Equal(["/opt/libs/311", "/opt/libs/common"], catalog.Runtimes["311"].PythonPath);
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_Latest_AliasesTheNewestUsableVersion()
    {
        var future = FakeInterpreter("python3.99", "3.99.1");
        var catalog = await LoadAsync(new()
        {
            ["PyPE:Runtimes:311:Python"] = SystemPython,
            ["PyPE:Runtimes:399:Python"] = future,
            ["PyPE:Runtimes:broken:Python"] = "/opt/nothing/bin/python3",
            ["PyPE:Runtimes:old:Python"] = FakeInterpreter("python3.5", "3.5.9"),
        });

        var latest = catalog.Runtimes["latest"];
        Assert.Equal("3.99.1", latest.Version);
        Assert.Equal(future, latest.Python);
        Assert.Equal("alias of 399", latest.Origin);
        Assert.Null(latest.Error);
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_ConfiguredLatest_IsKept()
    {
        var catalog = await LoadAsync(new()
        {
            ["PyPE:Runtimes:latest:Python"] = SystemPython,
            ["PyPE:Runtimes:399:Python"] = FakeInterpreter("python3.99", "3.99.1"),
        });

        Assert.Equal(SystemPython, catalog.Runtimes["latest"].Python);
        Assert.Equal("configuration", catalog.Runtimes["latest"].Origin);
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_TooOldOrSilentInterpreters_GetErrors()
    {
        var catalog = await LoadAsync(new()
        {
            ["PyPE:Runtimes:35:Python"] = FakeInterpreter("python3.5", "3.5.9"),
            ["PyPE:Runtimes:odd:Python"] = FakeInterpreter("odd", "no version here", exitCode: 3),
        });

        Assert.Equal("3.5.9", catalog.Runtimes["35"].Version);
        Assert.Contains("older than 3.6", catalog.Runtimes["35"].Error, StringComparison.Ordinal);
        Assert.Contains("did not report a Python version (exit code 3)", catalog.Runtimes["odd"].Error, StringComparison.Ordinal);
        Assert.Empty(catalog.Errors);
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_MissingPythonKey_IsAnError()
    {
        var catalog = await LoadAsync(new() { ["PyPE:Runtimes:311:PythonPath"] = "/opt/libs/311" });

        var error = Assert.Single(catalog.Errors);
        Assert.Equal(("PyPE:Runtimes", "311:Python"), (error.Source, error.Key));
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.False(catalog.Runtimes.ContainsKey("311"));
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_KeysInAnotherCase_AreKnownKeys()
    {
        // Configuration keys are case-insensitive: "python" is read as "Python", so it is not unknown either.
        var catalog = await LoadAsync(new()
        {
            ["PyPE:Runtimes:311:python"] = SystemPython,
            ["PyPE:Runtimes:311:pythonpath"] = "/opt/libs/311",
        });

        Assert.Empty(catalog.Errors);
        Assert.Null(catalog.Runtimes["311"].Error);
        Assert.Equal(["/opt/libs/311"], catalog.Runtimes["311"].PythonPath);
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_UnknownKey_IsAnError()
    {
        var catalog = await LoadAsync(new()
        {
            ["PyPE:Runtimes:311:Python"] = SystemPython,
            ["PyPE:Runtimes:311:Pythonpath2"] = "/opt/libs",
        });

        var error = Assert.Single(catalog.Errors);
        Assert.Equal("311:Pythonpath2", error.Key);
        Assert.Contains("allowed: Python, PythonPath", error.Message, StringComparison.Ordinal);
        Assert.Null(catalog.Runtimes["311"].Error);
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_EndOfSupport_DefaultsToCPythonsDate_AndCanBeConfigured()
    {
        var catalog = await LoadAsync(new()
        {
            ["PyPE:Runtimes:old:Python"] = FakeInterpreter("python3.9", "3.9.18"),
            ["PyPE:Runtimes:debian:Python"] = FakeInterpreter("python3.11", "3.11.2"),
            ["PyPE:Runtimes:debian:EndOfSupport"] = "2028-06-30",
        });

        Assert.Empty(catalog.Errors);
        Assert.Equal(new DateOnly(2025, 10, 31), catalog.Runtimes["old"].EndOfSupport);
        Assert.Equal(new DateOnly(2028, 6, 30), catalog.Runtimes["debian"].EndOfSupport);
    }

    [Fact(Timeout = 10_000)]
    public async Task LoadAsync_UnreadableEndOfSupport_IsAConfigurationError()
    {
        var catalog = await LoadAsync(new()
        {
            ["PyPE:Runtimes:x:Python"] = FakeInterpreter("python3.11", "3.11.2"),
            ["PyPE:Runtimes:x:EndOfSupport"] = "next year",
        });

        var error = Assert.Single(catalog.Errors);
        Assert.Equal("x:EndOfSupport", error.Key);
        Assert.Contains("yyyy-mm-dd", error.Message, StringComparison.Ordinal);
    }
}
