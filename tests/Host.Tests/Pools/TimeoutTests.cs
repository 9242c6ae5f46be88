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

    [Fact(Timeout = 60_000)]
    public async Task WorkerSilentHalfwayThroughAResponse_IsCutOff_AndReplaced()
    {
        await using var host = await TestHost.StartAsync([new TestApp("mid") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["requestTimeoutSeconds"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("mid", 1);
        var silent = (await host.ReadyPidsAsync("mid"))[0];

        using var response = await host.Client.GetAsync("/apps/mid/stream?chunks=3&size=1000&delay_ms=4000", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The headers and the first chunk arrived; then the worker went silent and the response is cut off.
        await Assert.ThrowsAnyAsync<Exception>(() => response.Content.ReadAsByteArrayAsync());

        await Wait.UntilAsync(() => !WorkerProcesses.IsAlive(silent), TimeSpan.FromSeconds(15), "the silent worker is gone");
        var status = await host.AppStatusAsync("mid");
        Assert.Equal(1, status.GetProperty("restarts").GetProperty("request_timeout").GetInt32());
        using var next = await host.Client.GetAsync("/apps/mid/pid");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientLeavingHalfwayThroughAStream_DoesNotCostTheWorker()
    {
        await using var host = await TestHost.StartAsync([new TestApp("leave") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["requestTimeoutSeconds"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("leave", 1);
        var pid = (await host.ReadyPidsAsync("leave"))[0];

        using (var response = await host.Client.GetAsync("/apps/leave/stream?chunks=40&size=1000&delay_ms=100", HttpCompletionOption.ResponseHeadersRead))
        {
            var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[1000];
            await stream.ReadAtLeastAsync(buffer, 1000);
        }

        // The worker notices the closed connection at its next write and is free again: same process.
        using var next = await host.Client.GetAsync("/apps/leave/pid");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), (await next.Content.ReadAsStringAsync()).Trim());
        var status = await host.AppStatusAsync("leave");
        Assert.Equal(0, status.GetProperty("restarts").GetProperty("request_timeout").GetInt32());
    }
}
