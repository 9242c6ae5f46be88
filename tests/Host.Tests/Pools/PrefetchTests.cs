using System.Net;
using System.Text.Json;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Pools;

/// <summary>
/// <c>pool.prefetch</c> with real workers: a request handed ahead to a busy worker runs there when it finishes,
/// is taken back (never run twice) when another worker frees first, and keeps the queue's deadline.
/// </summary>
public sealed class PrefetchTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static async Task<int[]> InFlightAsync(TestHost host, string app)
    {
        var workers = (await host.AppStatusAsync(app)).GetProperty("workers");
        return [.. workers.EnumerateArray().Select(w => w.GetProperty("inFlight").GetInt32())];
    }

    private static async Task<long> ServedAsync(TestHost host, string app) =>
        (await host.AppStatusAsync(app)).GetProperty("workers").EnumerateArray().Sum(w => w.GetProperty("requestsServed").GetInt64());

    /// <summary>How many requests the app itself ran in the worker that answers this one (counting this one).</summary>
    private static async Task<int> AppRunsAsync(TestHost host, string app)
    {
        using var stats = await host.Client.GetAsync($"/apps/{app}/stats");
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        return JsonDocument.Parse(await stats.Content.ReadAsStringAsync()).RootElement.GetProperty("requests").GetInt32();
    }

    private static async Task<string> PidAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        return body.TrimStart().StartsWith('{') ? JsonDocument.Parse(body).RootElement.GetProperty("pid").ToString() : body.Trim();
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestHandedAhead_GoesToTheBusyWorker_NotTheQueue_AndRunsWhenItFinishes()
    {
        await using var host = await TestHost.StartAsync([new TestApp("pf1") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["prefetch"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("pf1", 1);

        var slow = host.Client.GetAsync("/apps/pf1/slow?ms=3000");
        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf1"))[0] == 1, Patience, "the slow request is in hand");
        var next = host.Client.GetAsync("/apps/pf1/pid");
        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf1"))[0] == 2, Patience, "the next request is handed ahead to the busy worker");
        Assert.Equal(0, (await host.AppStatusAsync("pf1")).GetProperty("queueLength").GetInt32());

        using var first = await slow;
        using var second = await next;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await PidAsync(first), await PidAsync(second));
        Assert.Contains("pype_prefetched_requests_total{app=\"pf1\",environment=\"TEST\"} 1", await host.Admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestHandedAheadBehindASlowOne_IsTakenBack_ByTheWorkerThatFreesFirst_AndRunsOnlyThere()
    {
        await using var host = await TestHost.StartAsync([new TestApp("pf2") { Pool = new() { ["minWorkers"] = 2, ["maxWorkers"] = 2, ["prefetch"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("pf2", 2);

        // The first among equally busy workers takes both the slow request and the one handed ahead.
        var slow = host.Client.GetAsync("/apps/pf2/slow?ms=10000");
        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf2")).Sum() == 1, Patience, "the slow request is in hand");
        var quick = host.Client.GetAsync("/apps/pf2/slow?ms=2000");
        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf2")).SequenceEqual([1, 1]), Patience, "both workers are busy");
        var ahead = host.Client.GetAsync("/apps/pf2/pid");
        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf2")).Sum() == 3, Patience, "the third request is handed ahead");

        using var moved = await ahead.WaitAsync(Patience);
        Assert.False(slow.IsCompleted, "the request handed ahead did not wait for the slow one");
        using var quickAnswer = await quick;
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal(await PidAsync(quickAnswer), await PidAsync(moved));

        using var slowAnswer = await slow;
        Assert.Equal(HttpStatusCode.OK, slowAnswer.StatusCode);
        // The slow worker found the request taken back and dropped it: three requests, three runs. Idle again, it is
        // the first among equals, so it answers /stats: it ran the slow request and this one, nothing else.
        await Wait.UntilAsync(async () => await ServedAsync(host, "pf2") == 3, Patience, "every request counted once");
        using (var stats = await host.Client.GetAsync("/apps/pf2/stats"))
        {
            var counters = JsonDocument.Parse(await stats.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(await PidAsync(slowAnswer), counters.GetProperty("pid").ToString());
            Assert.Equal(2, counters.GetProperty("requests").GetInt32());
        }

        var metrics = await host.Admin.GetStringAsync("/metrics");
        Assert.Contains("pype_prefetch_taken_back_total{app=\"pf2\",environment=\"TEST\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestHandedAhead_ThatItsWorkerDoesNotStartInTime_Gets503_AndNeverRuns()
    {
        await using var host = await TestHost.StartAsync([new TestApp("pf3")
        {
            Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["prefetch"] = 1, ["queueTimeoutSeconds"] = 0.5 },
        }]);
        await host.WaitForReadyWorkersAsync("pf3", 1);

        var slow = host.Client.GetAsync("/apps/pf3/slow?ms=4000");
        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf3"))[0] == 1, Patience, "the slow request is in hand");
        using var late = await host.Client.GetAsync("/apps/pf3/slow?ms=1");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
        Assert.NotNull(late.Headers.RetryAfter);
        Assert.False(slow.IsCompleted, "answered by the queue's deadline, not after the slow request");
        using var first = await slow;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // The worker dropped the request it found taken back and serves on.
        using var after = await host.Client.GetAsync("/apps/pf3/pid");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(await PidAsync(first), await PidAsync(after));
        Assert.Equal(3, await AppRunsAsync(host, "pf3")); // the slow one, /pid and /stats: never the one taken back
        Assert.Contains("pype_requests_rejected_total{app=\"pf3\",reason=\"queue_timeout\",environment=\"TEST\"} 1", await host.Admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientLeaving_WhileItsRequestWaitsAhead_FreesTheSlot_AndTheWorkerNeverRunsIt()
    {
        await using var host = await TestHost.StartAsync([new TestApp("pf4") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["prefetch"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("pf4", 1);

        var slow = host.Client.GetAsync("/apps/pf4/slow?ms=5000");
        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf4"))[0] == 1, Patience, "the slow request is in hand");
        using (var impatient = new CancellationTokenSource())
        {
            var leaving = host.Client.GetAsync("/apps/pf4/slow?ms=1", impatient.Token);
            await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf4"))[0] == 2, Patience, "the request is handed ahead");
            await impatient.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        }

        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf4"))[0] == 1, Patience, "the slot is free again before the slow request ends");
        Assert.False(slow.IsCompleted);
        using var first = await slow;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(2, await AppRunsAsync(host, "pf4")); // the slow one and /stats: never the one whose client left
    }

    [Fact(Timeout = 60_000)]
    public async Task WorkerKilled_WithAPostHandedAhead_ThePostGoesToTheReplacement_BecauseItNeverStarted()
    {
        await using var host = await TestHost.StartAsync([new TestApp("pf5") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["prefetch"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("pf5", 1);
        var pid = (await host.AppStatusAsync("pf5")).GetProperty("workers")[0].GetProperty("pid").GetInt32();

        var slow = host.Client.GetAsync("/apps/pf5/slow?ms=5000");
        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf5"))[0] == 1, Patience, "the slow request is in hand");
        var post = host.Client.PostAsync("/apps/pf5/echo", new StringContent("handed ahead"));
        await Wait.UntilAsync(async () => (await InFlightAsync(host, "pf5"))[0] == 2, Patience, "the POST is handed ahead");
        System.Diagnostics.Process.GetProcessById(pid).Kill();

        // Without a ticket a POST whose worker died gets 502 (it may have run); this one provably never started.
        using var posted = await post.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var echo = JsonDocument.Parse(await posted.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("POST", echo.GetProperty("method").GetString());
        Assert.NotEqual(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), echo.GetProperty("pid").ToString());
        using (await slow)
        {
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ATicketHeaderFromTheClient_NeverReachesTheWorker()
    {
        await using var host = await TestHost.StartAsync([new TestApp("pf6") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["prefetch"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("pf6", 1);

        // Passed on, the shim would look the forged ticket up, not find it issued, and drop the request.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apps/pf6/echo");
        request.Headers.TryAddWithoutValidation("X-PyPE-Ticket", "0:1");
        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("headers");
        Assert.DoesNotContain(headers.EnumerateObject(), h => h.Name.Contains("TICKET", StringComparison.OrdinalIgnoreCase));
    }
}
