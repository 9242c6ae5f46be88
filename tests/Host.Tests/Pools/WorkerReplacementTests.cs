using System.Net;
using PyPE.Host.Tests.Infrastructure;
using PyPE.Supervisor.Processes;

namespace PyPE.Host.Tests.Pools;

public sealed class WorkerReplacementTests
{
    [Fact(Timeout = 60_000)]
    public async Task KilledWorker_IsReplaced_AndTheNextRequestsSucceed()
    {
        await using var host = await TestHost.StartAsync([new TestApp("k") { Pool = new() { ["minWorkers"] = 2, ["maxWorkers"] = 2 } }]);
        await host.WaitForReadyWorkersAsync("k", 2);
        var before = await host.ReadyPidsAsync("k");

        ProcessSignals.SignalProcess(before[0], ProcessSignals.SIGKILL);

        // Requests right after the kill land on the survivor or, if they pick the dead worker before the
        // supervisor noticed, are retried: none fails.
        for (var i = 0; i < 20; i++)
        {
            using var response = await host.Client.GetAsync("/apps/k/pid");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Wait.UntilAsync(async () =>
        {
            var pids = await host.ReadyPidsAsync("k");
            return pids.Count == 2 && !pids.Contains(before[0]);
        }, TimeSpan.FromSeconds(20), "the killed worker is replaced");
        var status = await host.AppStatusAsync("k");
        Assert.Equal(1, status.GetProperty("restarts").GetProperty("crash").GetInt32());
        Assert.Equal("running", status.GetProperty("state").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task WorkerDyingMidRequest_Gives502_AndIsReplaced()
    {
        await using var host = await TestHost.StartAsync([new TestApp("d") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("d", 1);
        var before = await host.ReadyPidsAsync("d");

        using var crashed = await host.Client.GetAsync("/apps/d/crash");
        Assert.Equal(HttpStatusCode.BadGateway, crashed.StatusCode);

        using var next = await host.Client.GetAsync("/apps/d/pid");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.NotEqual(before[0].ToString(System.Globalization.CultureInfo.InvariantCulture), (await next.Content.ReadAsStringAsync()).Trim());
    }

    [Fact(Timeout = 60_000)]
    public async Task CrashLoopingApp_TripsItsBreaker_WhileTheOtherAppKeepsServing()
    {
        await using var host = await TestHost.StartAsync(
        [
            new TestApp("broken") { Env = new() { ["TESTAPP_CRASH_ON_START"] = "1" }, Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 2 } },
            new TestApp("fine"),
        ],
        ["--PyPE:Restarts:BreakerThreshold=3", "--PyPE:Restarts:BreakerCooldown=00:05:00"]);

        await Wait.UntilAsync(async () => (await host.AppStatusAsync("broken")).GetProperty("state").GetString() == "failed",
            TimeSpan.FromSeconds(30), "the broken app is marked failed");

        var status = await host.AppStatusAsync("broken");
        var error = status.GetProperty("lastError").GetString();
        Assert.Contains("Traceback", error, StringComparison.Ordinal);
        Assert.Contains("RuntimeError: testapp configured to crash on start", error, StringComparison.Ordinal);
        Assert.True(status.GetProperty("restarts").GetProperty("start_failure").GetInt32() >= 3);

        using var failed = await host.Client.GetAsync("/apps/broken/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.True(failed.Headers.RetryAfter is not null);
        var page = await failed.Content.ReadAsStringAsync();
        Assert.Contains("cannot start", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", page, StringComparison.Ordinal);

        using var fine = await host.Client.GetAsync("/apps/fine/health");
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task LiveWorkerWithAnUnreadableResponse_Gets502_AndKeepsServing()
    {
        await using var host = await TestHost.StartAsync([new TestApp("huge") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("huge", 1);
        var pid = (await host.ReadyPidsAsync("huge"))[0];

        using var huge = await host.Client.GetAsync("/apps/huge/huge-headers");

        Assert.Equal(HttpStatusCode.BadGateway, huge.StatusCode);
        using var next = await host.Client.GetAsync("/apps/huge/pid");
        Assert.Equal(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), (await next.Content.ReadAsStringAsync()).Trim());
        var status = await host.AppStatusAsync("huge");
        Assert.Equal(0, status.GetProperty("restarts").GetProperty("crash").GetInt32());
    }
}
