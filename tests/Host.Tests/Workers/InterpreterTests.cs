using System.Diagnostics;
using System.Net;
using System.Text.Json;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Workers;

/// <summary>The shim on every CPython present (3.6 to 3.13), and several platform versions in one host.</summary>
public sealed class InterpreterTests
{
    public static TheoryData<string> AllInterpreters => Interpreters.AllForTheory();

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(AllInterpreters))]
    public async Task ShimSelfTest_PassesOn(string python)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "TestApps", "shim_selftest.py");
        var shim = Path.Combine(AppContext.BaseDirectory, "Shim", "pype_worker.py");
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { script, "--python", python, "--shim", shim },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"shim self-test failed on {python}:\n{await output}\n{await errors}");
    }

    [Fact(Timeout = 60_000)]
    public async Task OldestAndNewestInterpreters_ServeTheTestApp_InOneHost_VisibleInStatus()
    {
        Assert.True(Interpreters.Pyenv.Count >= 2, "this machine should have several CPython versions in the pyenv versions folder");
        var oldest = Interpreters.Pyenv[0].Version;
        var newest = Interpreters.Pyenv[^1].Version;
        string Id(Version v) => $"{v.Major}{v.Minor}";
        await using var host = await TestHost.StartAsync(
        [
            new TestApp("old") { Runtime = Id(oldest) },
            new TestApp("new") { Runtime = Id(newest) },
            new TestApp("sys") { Runtime = "system" },
        ]);

        foreach (var (app, version) in new[] { ("old", oldest), ("new", newest) })
        {
            using var response = await host.Client.GetAsync($"/apps/{app}/echo");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(version.ToString(3), echo.GetProperty("python").GetString());
        }

        var status = await host.StatusAsync();
        var runtimes = status.GetProperty("apps").EnumerateArray().Select(a => a.GetProperty("runtimeVersion").GetString()).ToHashSet();
        Assert.Contains(oldest.ToString(3), runtimes);
        Assert.Contains(newest.ToString(3), runtimes);
    }
}
