using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using PyPE.LoadTests.Running;

namespace PyPE.Host.Tests.LoadTests;

/// <summary>The runner's schedule against an in-process handler that answers at once and notes when each request was sent.</summary>
public sealed class OpenModelRunnerTests
{
    [Fact(Timeout = 30_000)]
    public async Task EveryRequestStarts_NoEarlierThanItsDueTime()
    {
        var handler = new RecordingHandler();
        using var client = new HttpClient(handler) { BaseAddress = new Uri("http://load.test") };
        var runner = new OpenModelRunner(client, new RunSettings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), 100));
        var scenario = new Scenario("ping", RequestClass.Dynamic, "/ping", 200);

        var before = Stopwatch.GetTimestamp();
        var result = (await runner.RunAsync([scenario])).Single();

        Assert.Equal(200, result.Completed);
        var sent = handler.Sent.Select(t => Stopwatch.GetElapsedTime(before, t)).Order().ToList();
        Assert.Equal(200, sent.Count);
        // The run's clock starts after `before`, so a request sent early by more than that sliver shows here.
        for (var n = 0; n < sent.Count; n++)
        {
            var due = RateShape.Constant.DueTime(n, 200, TimeSpan.FromSeconds(1));
            Assert.True(sent[n] >= due, $"request {n} was sent at {sent[n].TotalMilliseconds:0.###} ms, due at {due.TotalMilliseconds:0.###} ms");
        }

        Assert.Equal(200, result.Scheduled);
        // The start lag is part of each request's latency (2 % for the histograms' rounding).
        Assert.True(result.StartLagPercentilesMs[100] <= result.LatencyPercentilesMs[100] * 1.02,
            $"start lag max {result.StartLagPercentilesMs[100]} ms, latency max {result.LatencyPercentilesMs[100]} ms");
    }

    [Fact(Timeout = 30_000)]
    public async Task ACancelledRun_EndsWithoutWaitingOutItsSchedule()
    {
        var handler = new RecordingHandler();
        using var client = new HttpClient(handler) { BaseAddress = new Uri("http://load.test") };
        // One request every 100 s for 10 minutes: the second is due long after the test's timeout, so the run must end
        // on the cancellation, while the schedule sleeps.
        var runner = new OpenModelRunner(client, new RunSettings(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5), 100));
        using var cancel = new CancellationTokenSource();
        var run = runner.RunAsync([new Scenario("slow", RequestClass.Dynamic, "/ping", 0.01)], cancellationToken: cancel.Token);

        await handler.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        await cancel.CancelAsync();
        var result = (await run).Single();

        Assert.Equal(1, result.Completed);
    }

    [Fact(Timeout = 30_000)]
    public async Task RequestsBeyondMaxInFlight_AreDroppedAndCounted_NotWaitedFor()
    {
        // A server that holds each request for a second, far past the 0.2 s schedule: 3 may be open at once, so the
        // other 17 of the 20 due cannot start and are dropped on time instead of queueing behind them.
        using var client = new HttpClient(new SlowHandler(TimeSpan.FromSeconds(1))) { BaseAddress = new Uri("http://load.test") };
        var runner = new OpenModelRunner(client, new RunSettings(TimeSpan.FromSeconds(0.2), TimeSpan.FromSeconds(5), 3));

        var result = (await runner.RunAsync([new Scenario("held", RequestClass.Dynamic, "/ping", 100)])).Single();

        Assert.Equal(20, result.Scheduled);
        Assert.Equal(3, result.Completed);
        Assert.Equal(17, result.Dropped);
        Assert.Equal(0, result.Errors);
    }

    private sealed class SlowHandler(TimeSpan hold) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(hold, cancellationToken); // the server's behaviour under test, not a wait for state
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<long> Sent { get; } = new();

        public Task FirstRequest => _first.Task;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent.Enqueue(Stopwatch.GetTimestamp());
            _first.TrySetResult();
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
