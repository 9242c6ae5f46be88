using System.Net;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Pools;

public sealed class QueueTests
{
    [Fact(Timeout = 60_000)]
    public async Task RequestsBeyondTheWorkerCount_Queue_AndAllComplete()
    {
        await using var host = await TestHost.StartAsync([new TestApp("q") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["maxQueue"] = 20 } }]);
        await host.WaitForReadyWorkersAsync("q", 1);

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => host.Client.GetAsync("/apps/q/slow?ms=150")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task QueueOverflow_Gets503_WithRetryAfter()
    {
        await using var host = await TestHost.StartAsync([new TestApp("o") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["maxQueue"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("o", 1);

        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => host.Client.GetAsync("/apps/o/slow?ms=800")));

        var ok = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var rejected = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.Equal(2, ok);
        Assert.Equal(3, rejected.Count);
        Assert.All(rejected, r => Assert.NotNull(r.Headers.RetryAfter));
        foreach (var response in responses)
        {
            response.Dispose();
        }

        var metrics = await host.Admin.GetStringAsync("/metrics");
        Assert.Contains("pype_requests_rejected_total{app=\"o\",reason=\"queue_full\",environment=\"TEST\"} 3", metrics, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task WaitingLongerThanTheQueueTimeout_Gets503()
    {
        await using var host = await TestHost.StartAsync([new TestApp("w") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["queueTimeoutSeconds"] = 0.3 } }]);
        await host.WaitForReadyWorkersAsync("w", 1);

        var slow = host.Client.GetAsync("/apps/w/slow?ms=1500");
        await Wait.UntilAsync(async () => (await host.AppStatusAsync("w")).GetProperty("workers")[0].GetProperty("inFlight").GetInt32() == 1,
            TimeSpan.FromSeconds(10), "the slow request is in hand");
        using var waited = await host.Client.GetAsync("/apps/w/pid");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, waited.StatusCode);
        using var first = await slow;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task QueuedRequests_StartMoreWorkers_UpToTheMaximum()
    {
        await using var host = await TestHost.StartAsync([new TestApp("s") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 3, ["maxQueue"] = 50 } }]);
        await host.WaitForReadyWorkersAsync("s", 1);

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => host.Client.GetAsync("/apps/s/slow?ms=400")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var pids = new HashSet<string>();
        foreach (var response in responses)
        {
            pids.Add(System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("pid").ToString());
            response.Dispose();
        }

        Assert.True(pids.Count > 1, "queued requests should have started more workers");
        var status = await host.AppStatusAsync("s");
        Assert.True(status.GetProperty("workers").GetArrayLength() <= 3);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientThatLeaves_DoesNotFreeTheWorker_UntilItsRequestIsDone()
    {
        await using var host = await TestHost.StartAsync([new TestApp("abandon") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("abandon", 1);

        using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => host.Client.GetAsync("/apps/abandon/slow?ms=2500", impatient.Token));
        }

        // The worker is still sleeping in the abandoned request: the next request waits in the host's queue
        // instead of being sent behind it.
        var next = host.Client.GetAsync("/apps/abandon/pid");
        await Wait.UntilAsync(async () => (await host.AppStatusAsync("abandon")).GetProperty("queueLength").GetInt32() == 1,
            TimeSpan.FromSeconds(5), "the next request waits in the host's queue");
        using var response = await next;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Metrics_TellTheAppsOwnErrors_FromThePlatformsFailures()
    {
        await using var host = await TestHost.StartAsync([new TestApp("blame") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["maxQueue"] = 0 } }]);
        await host.WaitForReadyWorkersAsync("blame", 1);

        using (var appError = await host.Client.GetAsync("/apps/blame/exception"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, appError.StatusCode);
        }

        var busy = host.Client.GetAsync("/apps/blame/slow?ms=800");
        await Wait.UntilAsync(async () => (await host.AppStatusAsync("blame")).GetProperty("workers")[0].GetProperty("inFlight").GetInt32() == 1,
            TimeSpan.FromSeconds(10), "the worker is busy");
        using (var refused = await host.Client.GetAsync("/apps/blame/pid"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        using (await busy)
        {
        }

        var metrics = await host.Admin.GetStringAsync("/metrics");
        Assert.Contains("pype_http_requests_total{app=\"blame\",class=\"dynamic\",status_class=\"5xx\",origin=\"app\",environment=\"TEST\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("pype_http_requests_total{app=\"blame\",class=\"dynamic\",status_class=\"5xx\",origin=\"host\",environment=\"TEST\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("pype_http_requests_total{app=\"blame\",class=\"dynamic\",status_class=\"2xx\",origin=\"app\",environment=\"TEST\"} 1", metrics, StringComparison.Ordinal);
    }
}
