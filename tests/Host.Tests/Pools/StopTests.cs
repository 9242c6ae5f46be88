using System.Net;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Pools;

public sealed class StopTests
{
    [Fact(Timeout = 60_000)]
    public async Task WorkerThatIgnoresSigterm_IsKilledAfterTheGrace_AndNothingIsLeft()
    {
        // TestHost's dispose stops the host and fails the test if any worker process is left.
        var host = await TestHost.StartAsync([new TestApp("stubborn")
        {
            Env = new() { ["TESTAPP_IGNORE_SIGTERM"] = "1" },
            Pool = new() { ["minWorkers"] = 2, ["maxWorkers"] = 2, ["stopTimeoutSeconds"] = 0.5 },
        }]);
        await host.WaitForReadyWorkersAsync("stubborn", 2);
        var pids = await host.ReadyPidsAsync("stubborn");

        await host.DisposeAsync();

        Assert.All(pids, pid => Assert.False(WorkerProcesses.IsAlive(pid)));
    }

    [Fact(Timeout = 60_000)]
    public async Task ThreadedWorker_ServesSeveralRequestsAtOnce()
    {
        await using var host = await TestHost.StartAsync([new TestApp("threads") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["threads"] = 4 } }]);
        await host.WaitForReadyWorkersAsync("threads", 1);

        var requests = Enumerable.Range(0, 4).Select(_ => host.Client.GetAsync("/apps/threads/slow?ms=1500")).ToList();
        await Wait.UntilAsync(async () => (await host.AppStatusAsync("threads")).GetProperty("workers")[0].GetProperty("inFlight").GetInt32() == 4,
            TimeSpan.FromSeconds(10), "one worker has four requests in hand");
        foreach (var response in await Task.WhenAll(requests))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        var echo = await host.Client.GetStringAsync("/apps/threads/echo");
        Assert.Contains("\"wsgi.multithread\": true", echo, StringComparison.Ordinal);
    }
}
