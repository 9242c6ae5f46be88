using System.Net;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Pools;

public sealed class TimeoutTests
{
    [Fact(Timeout = 60_000)]
    public async Task HangingRequest_Gets504_AndItsWorkerIsReplaced()
    {
        await using var host = await TestHost.StartAsync([new TestApp("h") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["requestTimeoutSeconds"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("h", 1);
        var hung = (await host.ReadyPidsAsync("h"))[0];

        using var response = await host.Client.GetAsync("/apps/h/hang");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        await Wait.UntilAsync(() => !WorkerProcesses.IsAlive(hung), TimeSpan.FromSeconds(15), "the hung worker is gone");
        using var next = await host.Client.GetAsync("/apps/h/pid");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        var status = await host.AppStatusAsync("h");
        Assert.Equal(1, status.GetProperty("restarts").GetProperty("request_timeout").GetInt32());
    }
}
