using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Admin;

public sealed class StatusCommandTests
{
    [Fact(Timeout = 60_000)]
    public async Task StatusCommand_PrintsAppsWorkersRuntimesAndSlos()
    {
        await using var host = await TestHost.StartAsync([new TestApp("term") { Pool = new() { ["minWorkers"] = 2, ["maxWorkers"] = 2 } }]);
        await host.WaitForReadyWorkersAsync("term", 2);
        var pids = await host.ReadyPidsAsync("term");

        var (exitCode, output) = await HostCommand.RunAsync("status", "--admin", host.Admin.BaseAddress!.ToString());

        Assert.Equal(0, exitCode);
        Assert.Contains("APP term · running · python system", output, StringComparison.Ordinal);
        Assert.All(pids, pid => Assert.Contains($" {pid} ", output, StringComparison.Ordinal));
        Assert.Contains("PLATFORM VERSIONS", output, StringComparison.Ordinal);
        Assert.Contains("availability", output, StringComparison.Ordinal);
        Assert.Contains("98.76 %", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task StatusCommand_WithoutAHost_SaysSoAndFails()
    {
        var (exitCode, _) = await HostCommand.RunAsync("status", "--admin", "http://127.0.0.1:1");
        Assert.Equal(1, exitCode);
    }
}
