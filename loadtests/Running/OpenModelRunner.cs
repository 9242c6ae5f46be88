using System.Diagnostics;

namespace PyPE.LoadTests.Running;

/// <summary>
/// An open-model load generator: each scenario's requests are due at fixed times (a constant or ramped arrival rate, <see cref="RateShape"/>), and
/// each is started at its due time whether or not earlier ones have finished — the way independent users
/// arrive, unlike a closed loop of virtual users that waits for each answer. Latency counts from the due time.
/// A request that cannot start because <see cref="RunSettings.MaxInFlight"/> requests are already open is
/// counted as dropped, not delayed. Every run is bounded: by the schedule's length and by a hard deadline.
/// </summary>
public sealed class OpenModelRunner(HttpClient client, RunSettings settings)
{
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(500);

    private int _inFlight;

    /// <summary>Requests sent and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Runs every scenario at its rate for <see cref="RunSettings.Duration"/>; then waits for the stragglers up to the request timeout.</summary>
    public async Task<IReadOnlyList<ScenarioResult>> RunAsync(IReadOnlyList<Scenario> scenarios, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var stats = scenarios.Select(s => new ScenarioStats(s, settings.Duration)).ToList();
        var pending = new List<Task>();
        var started = Stopwatch.GetTimestamp();
        // The schedule has a thread of its own: it sleeps between due times instead of queueing timer callbacks
        // and yielding on the thread pool (millisecond timers; the yielding loop cost a core at 1,000/s).
        var scheduled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                PreciseSleep.TightenCurrentThread();
                Schedule(scenarios, stats, started, pending, progress, cancellationToken);
                scheduled.SetResult();
            }
            catch (Exception ex)
            {
                scheduled.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "Load schedule",
        };
        thread.Start();
        await scheduled.Task;

        var elapsed = Stopwatch.GetElapsedTime(started);
        pending.RemoveAll(t => t.IsCompleted);
        await Task.WhenAll(pending).WaitAsync(settings.RequestTimeout + TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        return [.. stats.Select(s => s.Snapshot(elapsed))];
    }

    /// <summary>Starts each request at its due time (every one already due when the thread wakes), sleeping in between.</summary>
    private void Schedule(IReadOnlyList<Scenario> scenarios, List<ScenarioStats> stats, long started, List<Task> pending, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
    {
        // One schedule per scenario: request n of a scenario is due at shape.DueTime(n, rate, duration).
        var next = scenarios.Select(_ => 0L).ToArray();
        var shape = settings.Shape ?? RateShape.Constant;
        var total = scenarios.Select(s => shape.Count(s.RatePerSecond, settings.Duration)).ToArray();
        var lastReport = 0L;
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = Stopwatch.GetElapsedTime(started);
            var earliest = TimeSpan.MaxValue;
            var done = true;
            for (var i = 0; i < scenarios.Count; i++)
            {
                while (next[i] < total[i])
                {
                    var due = shape.DueTime(next[i], scenarios[i].RatePerSecond, settings.Duration);
                    if (due > now)
                    {
                        earliest = due < earliest ? due : earliest;
                        break;
                    }

                    next[i]++;
                    Start(scenarios[i], stats[i], started, due, pending);
                }

                done &= next[i] >= total[i];
            }

            if (progress is not null && now.Ticks - lastReport >= TimeSpan.TicksPerSecond / 2)
            {
                lastReport = now.Ticks;
                progress.Report(new RunProgress(now, settings.Duration, stats.Sum(s => s.Completed), stats.Sum(s => s.Errors), stats.Sum(s => s.Dropped), InFlight));
            }

            if (done)
            {
                break;
            }

            // At most half a second at a time: a cancelled run (and the progress line) does not wait for a slow schedule.
            var wait = earliest - Stopwatch.GetElapsedTime(started);
            PreciseSleep.For(wait < MaxSleep ? wait : MaxSleep);
        }
    }

    private void Start(Scenario scenario, ScenarioStats stats, long started, TimeSpan due, List<Task> pending)
    {
        if (Interlocked.Increment(ref _inFlight) > settings.MaxInFlight)
        {
            Interlocked.Decrement(ref _inFlight);
            stats.RecordDropped();
            return;
        }

        stats.RecordScheduled(Stopwatch.GetElapsedTime(started) - due);
        pending.Add(SendAsync(scenario, stats, started, due));
        if (pending.Count > 4096)
        {
            pending.RemoveAll(t => t.IsCompleted);
        }
    }

    private async Task SendAsync(Scenario scenario, ScenarioStats stats, long started, TimeSpan due)
    {
        var status = 0;
        try
        {
            using var timeout = new CancellationTokenSource(settings.RequestTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, scenario.Path);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            status = (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            // No answer: counted as an error with status 0.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }

        var latency = Stopwatch.GetElapsedTime(started) - due;
        stats.RecordCompleted((int)due.TotalSeconds, latency, status);
    }
}

/// <summary>How a run is bounded.</summary>
/// <param name="Duration">How long requests keep starting.</param>
/// <param name="RequestTimeout">A request without an answer by then is an error.</param>
/// <param name="MaxInFlight">Open requests allowed at once; beyond, requests are dropped (and counted).</param>
/// <param name="Shape">How the rates move over the run; constant when null.</param>
public sealed record RunSettings(TimeSpan Duration, TimeSpan RequestTimeout, int MaxInFlight, RateShape? Shape = null);

/// <summary>A live view of a run, for the terminal.</summary>
public sealed record RunProgress(TimeSpan Elapsed, TimeSpan Duration, long Completed, long Errors, long Dropped, int InFlight);
