using Microsoft.Extensions.Time.Testing;
using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Processes;
using PyPE.Supervisor.Runtimes;
using PyPE.Supervisor.Tests.TestSupport;
using PyPE.Supervisor.Workers;
using Xunit.Abstractions;
using static PyPE.Supervisor.Tests.TestSupport.Waiting;

namespace PyPE.Supervisor.Tests.Pools;

/// <summary>
/// The pool's control loop against a fake launcher and a fake clock. The loop runs on the thread pool, so what it
/// does after a signal is awaited with <see cref="Waiting.WaitUntilAsync"/>; a clock the loop must see move is
/// advanced in small steps until the awaited outcome shows (a timer may be armed just after a single jump).
/// </summary>
public sealed class AppPoolTests : IAsyncLifetime
{
    private const string Traceback = "Traceback (most recent call last):\n  File \"/srv/shop/shop/wsgi.py\", line 3, in <module>\n    raise RuntimeError(\"boom\")\nRuntimeError: boom";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();
    private readonly FakeWorkerLauncher _launcher;
    private readonly List<AppPool> _pools = [];
    private readonly ITestOutputHelper _output;

    public AppPoolTests(ITestOutputHelper output)
    {
        _output = output;
        _launcher = new FakeWorkerLauncher(_time);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _launcher.IgnoreSigterm = false;
        _launcher.HoldStarts = false;
        foreach (var pool in _pools)
        {
            await pool.DisposeAsync().AsTask().WaitAsync(Patience);
        }
    }

    private AppPool StartPool(PoolSettings settings, RestartPolicyOptions? restarts = null)
    {
        var app = new AppDefinition
        {
            Name = "shop",
            SourceFile = "/etc/pype/apps/shop.json",
            Runtime = "system",
            Root = "/srv/shop",
            Wsgi = "shop.wsgi:application",
            Fingerprint = "test",
            Pool = settings,
        };
        var runtime = new RuntimeDefinition { Id = "system", Python = "/usr/bin/python3", Version = "3.11.2" };
        var pool = new AppPool(app, runtime, _launcher, new WorkerIdSource(), new WorkerLaunchSettings("/tmp/x", "TEST"),
            restarts ?? new RestartPolicyOptions(), _time, new TestOutputLogger<AppPool>(_output, _time));
        _pools.Add(pool);
        pool.Start();
        return pool;
    }

    private static async Task<Worker> SingleRoutableAsync(AppPool pool)
    {
        await WaitUntilAsync(() => pool.Dispatcher.Routable.Count == 1, Patience);
        return pool.Dispatcher.Routable[0];
    }

    /// <summary>Moves the fake clock by <paramref name="step"/> until <paramref name="condition"/> holds.</summary>
    private Task AdvanceUntilAsync(Func<bool> condition, TimeSpan step) =>
        WaitUntilAsync(() =>
        {
            if (condition())
            {
                return true;
            }

            _time.Advance(step);
            return false;
        }, Patience);

    private static async Task<Worker> AcquireAsync(AppPool pool)
    {
        var result = await pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask().WaitAsync(Patience);
        Assert.Equal(AcquireFailure.None, result.Failure);
        return result.Worker!;
    }

    /// <summary>A pool of 1 to 2 workers grown to 2 by two requests in hand; both slots stay taken.</summary>
    private async Task<(AppPool Pool, Worker First, Worker Second)> GrowToTwoWorkersAsync(TimeSpan idleTimeout)
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 2, IdleTimeout = idleTimeout });
        var first = await SingleRoutableAsync(pool);
        Assert.Same(first, await AcquireAsync(pool));
        var second = await AcquireAsync(pool);
        Assert.NotSame(first, second);
        return (pool, first, second);
    }

    [Fact(Timeout = 10_000)]
    public async Task Start_StartsMinWorkers_AndBecomesRunning()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 2, MaxWorkers = 4 });

        await pool.FirstOutcome.WaitAsync(Patience);
        await WaitUntilAsync(() => pool.Dispatcher.Routable.Count == 2, Patience);

        Assert.Equal(PoolState.Running, pool.State);
        Assert.Null(pool.LastError);
        Assert.Equal(2, _launcher.Started.Count);
        Assert.Equal(2, pool.Counters.Spawns);
        Assert.Equal(2, pool.Workers.Count);
        Assert.All(pool.Workers, w => Assert.Equal(WorkerState.Ready, w.State));
        Assert.Equal(["shop-1", "shop-2"], pool.Workers.Select(w => w.Id).Order(StringComparer.Ordinal));
        Assert.All(pool.Workers, w => Assert.StartsWith("/tmp/x/w", w.SocketPath, StringComparison.Ordinal));
    }

    [Fact(Timeout = 10_000)]
    public async Task Start_WithZeroMinWorkers_IsRunningAtOnce_AndTheFirstRequestStartsAWorker()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 0, MaxWorkers = 2 });

        Assert.True(pool.FirstOutcome.IsCompleted);
        Assert.Equal(PoolState.Running, pool.State);

        var worker = await AcquireAsync(pool);

        Assert.Same(worker, Assert.Single(_launcher.Started));
        pool.Dispatcher.Release(worker);
    }

    [Fact(Timeout = 10_000)]
    public async Task CrashedReadyWorker_IsReplacedAfterTheBackoff()
    {
        var pool = StartPool(
            new PoolSettings { MinWorkers = 1 },
            new RestartPolicyOptions { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(1) });
        var crashed = await SingleRoutableAsync(pool);
        var crashedAt = _time.GetUtcNow();

        _launcher.Crash(crashed);

        await AdvanceUntilAsync(() => pool.Dispatcher.Routable is [var w] && w != crashed, TimeSpan.FromMilliseconds(100));
        var replacement = pool.Dispatcher.Routable[0];
        Assert.Equal(1, pool.Counters.Restarts(RecycleReasons.Crash));
        Assert.Equal(PoolState.Running, pool.State);
        Assert.DoesNotContain(crashed, pool.Workers);
        Assert.Equal(WorkerState.Stopped, crashed.State);
        var restart = Assert.Single(pool.RecentRestarts);
        Assert.Equal((crashed.Id, RecycleReasons.Crash, "exit code 1"), (restart.WorkerId, restart.Reason, restart.Detail));
        // Jittered backoff: at least half the initial delay.
        var restartedAt = _launcher.Find(LauncherEventKind.Start, replacement)!.At;
        Assert.True(restartedAt - crashedAt >= TimeSpan.FromMilliseconds(500), $"restarted after {restartedAt - crashedAt}");
    }

    [Fact(Timeout = 10_000)]
    public async Task WorkersCrashingYoung_OpenTheBreaker_AndTheAppFails()
    {
        var pool = StartPool(
            new PoolSettings { MinWorkers = 1, MaxWorkers = 1 },
            new RestartPolicyOptions { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(10), BreakerThreshold = 3 });
        var crashed = new List<Worker>();

        while (crashed.Count < 3)
        {
            await AdvanceUntilAsync(() => pool.Dispatcher.Routable is [var w] && !crashed.Contains(w), TimeSpan.FromMilliseconds(10));
            var worker = pool.Dispatcher.Routable[0];
            crashed.Add(worker);
            _launcher.Crash(worker);
        }

        await WaitUntilAsync(() => pool.State == PoolState.Failed, Patience);
        Assert.Contains($"{crashed[2].Id} exited with code 1", pool.LastError, StringComparison.Ordinal);
        Assert.Equal(3, pool.Counters.Restarts(RecycleReasons.Crash));
        // Whether it gets here before or after the dispatcher closes, the request is refused.
        var refused = await pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask().WaitAsync(Patience);
        Assert.Equal(AcquireFailure.AppFailed, refused.Failure);
        Assert.Equal(3, _launcher.Started.Count);
    }

    [Fact(Timeout = 10_000)]
    public async Task StartFailures_OpenTheBreaker_AndTheAppFails()
    {
        _launcher.StartResult = WorkerStartResult.Failure(Traceback);
        var pool = StartPool(
            new PoolSettings { MinWorkers = 1 },
            new RestartPolicyOptions { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(10), BreakerThreshold = 3 });

        await AdvanceUntilAsync(() => pool.State == PoolState.Failed, TimeSpan.FromMilliseconds(10));

        await pool.FirstOutcome.WaitAsync(Patience);
        Assert.Equal(Traceback, pool.LastError);
        Assert.Equal(3, _launcher.Started.Count);
        Assert.Equal(3, pool.Counters.Restarts(RecycleReasons.StartFailure));
        Assert.Equal("RuntimeError: boom", pool.RecentRestarts[^1].Detail);
        var refused = pool.Dispatcher.AcquireAsync(CancellationToken.None);
        Assert.True(refused.IsCompleted);
        Assert.Equal(AcquireFailure.AppFailed, (await refused).Failure);
        await WaitUntilAsync(() => pool.Workers.Count == 0, Patience);
    }

    [Fact(Timeout = 10_000)]
    public async Task StartFailures_WhileAWorkerServes_KeepItRouted()
    {
        var pool = StartPool(
            new PoolSettings { MinWorkers = 1, MaxWorkers = 3 },
            new RestartPolicyOptions { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(10), BreakerThreshold = 2 });
        var serving = await SingleRoutableAsync(pool);
        Assert.Same(serving, await AcquireAsync(pool));
        _launcher.StartResult = WorkerStartResult.Failure(Traceback);

        // A queued request asks for a second worker, whose starts fail until the breaker opens.
        var waiting = pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask();
        await AdvanceUntilAsync(() => pool.Counters.Restarts(RecycleReasons.StartFailure) >= 2, TimeSpan.FromMilliseconds(10));

        // The breaker is open, but a worker still serves: the app is not failed, only its last error is shown.
        Assert.Equal(Traceback, pool.LastError);
        Assert.Equal(PoolState.Running, pool.State);
        pool.Dispatcher.Release(serving);
        var result = await waiting.WaitAsync(Patience);
        Assert.Equal(AcquireFailure.None, result.Failure);
        Assert.Same(serving, result.Worker);
        pool.Dispatcher.Release(serving);
    }

    [Fact(Timeout = 10_000)]
    public async Task FailedApp_AfterTheCooldown_OneTrialThatSucceeds_RunsAgain()
    {
        _launcher.StartResult = WorkerStartResult.Failure(Traceback);
        var cooldown = TimeSpan.FromMinutes(1);
        var pool = StartPool(
            new PoolSettings { MinWorkers = 2, MaxWorkers = 2 },
            new RestartPolicyOptions { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(10), BreakerThreshold = 3, BreakerCooldown = cooldown });
        await AdvanceUntilAsync(() => pool.State == PoolState.Failed, TimeSpan.FromMilliseconds(10));
        var failedStarts = _launcher.Started.Count;

        _launcher.StartResult = WorkerStartResult.Success;
        _launcher.HoldStarts = true;
        _time.Advance(cooldown);

        // One trial only, even though the pool wants two workers.
        await WaitUntilAsync(() => _launcher.Started.Count == failedStarts + 1, Patience);
        var trial = _launcher.Started[^1];
        Assert.Equal(PoolState.Failed, pool.State);
        _launcher.HoldStarts = false;
        _launcher.CompleteStart(trial);

        await WaitUntilAsync(() => pool.Dispatcher.Routable.Count == 2, Patience);
        Assert.Equal(PoolState.Running, pool.State);
        Assert.Null(pool.LastError);
        Assert.Equal(failedStarts + 2, _launcher.Started.Count);
        var worker = await AcquireAsync(pool);
        pool.Dispatcher.Release(worker);
    }

    [Fact(Timeout = 10_000)]
    public async Task QueuedRequests_ScaleUpToMaxWorkers_AndNoFurther()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 3, MaxQueue = 10 });
        var first = await SingleRoutableAsync(pool);
        var busy = await AcquireAsync(pool);
        _launcher.HoldStarts = true;

        var waiting = Enumerable.Range(0, 5).Select(_ => pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask()).ToList();

        await WaitUntilAsync(() => _launcher.Started.Count == 3, Patience);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        waiting.Add(pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask());
        _launcher.HoldStarts = false;
        foreach (var started in _launcher.Started.Skip(1))
        {
            _launcher.CompleteStart(started);
        }

        await WaitUntilAsync(() => pool.Dispatcher.Routable.Count == 3, Patience);
        pool.Dispatcher.Release(busy);
        while (waiting.Count > 0)
        {
            var done = await Task.WhenAny(waiting).WaitAsync(Patience);
            waiting.Remove(done);
            var result = await done;
            Assert.Equal(AcquireFailure.None, result.Failure);
            pool.Dispatcher.Release(result.Worker!);
        }

        Assert.Equal(3, _launcher.Started.Count);
        Assert.Equal(3, pool.Counters.Spawns);
        Assert.Equal(3, pool.Workers.Count);
        Assert.Contains(first, pool.Workers);
    }

    [Fact(Timeout = 10_000)]
    public async Task WithGrowAfter_AQueuedRequest_StartsAWorkerOnlyOnceItHasWaitedThatLong()
    {
        var growAfter = TimeSpan.FromMilliseconds(500);
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 2, MaxQueue = 10, GrowAfter = growAfter });
        await SingleRoutableAsync(pool);
        var busy = await AcquireAsync(pool);
        var queuedAt = _time.GetTimestamp();

        var waiting = pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask();

        // The fake clock moves in steps of 50 ms: the second worker must not start before the request waited 500 ms.
        await AdvanceUntilAsync(() => _launcher.Started.Count == 2, TimeSpan.FromMilliseconds(50));
        Assert.True(_time.GetElapsedTime(queuedAt) >= growAfter, $"started after {_time.GetElapsedTime(queuedAt).TotalMilliseconds} ms of waiting");
        var served = await waiting.WaitAsync(Patience);
        Assert.NotSame(busy, served.Worker); // the new worker took it
        pool.Dispatcher.Release(busy);
        pool.Dispatcher.Release(served.Worker!);
    }

    [Fact(Timeout = 10_000)]
    public async Task WithGrowAfter_APoolWithoutWorkers_StartsOneForItsFirstRequestAtOnce()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 0, MaxWorkers = 2, GrowAfter = TimeSpan.FromSeconds(5) });

        var first = pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask();

        // The fake clock stands still: nothing but the first request itself may start the worker.
        await WaitUntilAsync(() => _launcher.Started.Count == 1, Patience);
        pool.Dispatcher.Release((await first.WaitAsync(Patience)).Worker!);
    }

    [Fact(Timeout = 10_000)]
    public async Task WithGrowAfter_AFullQueue_GrowsThePoolForAllOfItAtOnce()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 4, MaxQueue = 2, GrowAfter = TimeSpan.FromSeconds(5) });
        await SingleRoutableAsync(pool);
        var busy = await AcquireAsync(pool);
        _launcher.HoldStarts = true;
        var waiting = Enumerable.Range(0, 2).Select(_ => pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask()).ToList();

        var refused = await pool.Dispatcher.AcquireAsync(CancellationToken.None);

        Assert.Equal(AcquireFailure.QueueFull, refused.Failure);
        await WaitUntilAsync(() => _launcher.Started.Count == 3, Patience); // one per queued request, the clock standing still
        _launcher.HoldStarts = false;
        foreach (var started in _launcher.Started.Skip(1))
        {
            _launcher.CompleteStart(started);
        }

        pool.Dispatcher.Release(busy);
        foreach (var request in waiting)
        {
            pool.Dispatcher.Release((await request.WaitAsync(Patience)).Worker!);
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task MaxRequests_StartsTheReplacementFirst_ThenDrainsAndStopsTheOldWorker()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 1, MaxRequests = 2 });
        var old = await SingleRoutableAsync(pool);
        Assert.Equal(2, old.RecycleAfterRequests);
        _launcher.HoldStarts = true;

        for (var i = 0; i < 2; i++)
        {
            pool.Dispatcher.Release(await AcquireAsync(pool));
        }

        await WaitUntilAsync(() => _launcher.Started.Count == 2, Patience);
        var replacement = _launcher.Started[1];
        Assert.Equal(RecycleReasons.MaxRequests, old.RecycleReason);

        // While its successor starts, the old worker keeps serving.
        var lastRequest = await AcquireAsync(pool);
        Assert.Same(old, lastRequest);
        Assert.Empty(_launcher.SignalsTo(old));

        _launcher.CompleteStart(replacement);

        await WaitUntilAsync(() => old.State == WorkerState.Draining, Patience);
        Assert.Equal([replacement], pool.Dispatcher.Routable);
        var next = await AcquireAsync(pool);
        Assert.Same(replacement, next);
        pool.Dispatcher.Release(next);
        Assert.Empty(_launcher.SignalsTo(old));

        // Its last request ends: now it may go.
        pool.Dispatcher.Release(old);

        await WaitUntilAsync(() => !pool.Workers.Contains(old), Patience);
        Assert.Equal([ProcessSignals.SIGTERM], _launcher.SignalsTo(old));
        Assert.True(
            _launcher.IndexOf(LauncherEventKind.Ready, replacement) < _launcher.IndexOf(LauncherEventKind.Signal, old, ProcessSignals.SIGTERM),
            "the replacement is ready before the old worker is stopped");
        Assert.Equal(1, pool.Counters.Restarts(RecycleReasons.MaxRequests));
        Assert.Equal(0, pool.Counters.Restarts(RecycleReasons.Crash));
        Assert.Equal([replacement], pool.Workers);
    }

    [Fact(Timeout = 10_000)]
    public async Task LightTraffic_GoesToOneWorker_SoTheExtraWorkerIsRetiredAfterTheIdleTimeout()
    {
        var (pool, first, second) = await GrowToTwoWorkersAsync(idleTimeout: TimeSpan.FromSeconds(10));
        pool.Dispatcher.Release(second);
        pool.Dispatcher.Release(first);

        // A request every 2 s, one at a time, never idle for the timeout as a pool: the second worker is.
        for (var i = 0; i < 6; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            Assert.Same(first, await AcquireAsync(pool));
            pool.Dispatcher.Release(first);
        }

        await WaitUntilAsync(() => pool.Workers.Count == 1, Patience);
        Assert.Equal([first], pool.Workers);
        Assert.Equal(RecycleReasons.Idle, second.RecycleReason);
        Assert.Equal(1, pool.Counters.IdleRetired);
    }

    [Fact(Timeout = 10_000)]
    public async Task IdleWorkerAboveTheMinimum_IsRetiredAfterTheIdleTimeout()
    {
        var (pool, first, second) = await GrowToTwoWorkersAsync(idleTimeout: TimeSpan.FromSeconds(10));
        pool.Dispatcher.Release(second);
        _time.Advance(TimeSpan.FromSeconds(1));
        pool.Dispatcher.Release(first);

        _time.Advance(TimeSpan.FromSeconds(10));

        await WaitUntilAsync(() => pool.Workers.Count == 1, Patience);
        Assert.Equal([first], pool.Workers);
        Assert.Equal(1, pool.Counters.IdleRetired);
        Assert.Equal([ProcessSignals.SIGTERM], _launcher.SignalsTo(second));
        Assert.Equal(RecycleReasons.Idle, second.RecycleReason);
        Assert.Equal(0, pool.Counters.Restarts(RecycleReasons.Crash));
        Assert.Equal(PoolState.Running, pool.State);
    }

    [Fact(Timeout = 10_000)]
    public async Task StopAsync_SigtermsEveryWorker_AndCompletes()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 2, MaxWorkers = 2 });
        await WaitUntilAsync(() => pool.Dispatcher.Routable.Count == 2, Patience);
        var workers = pool.Workers.ToList();

        await pool.StopAsync(CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(PoolState.Stopped, pool.State);
        Assert.Empty(pool.Workers);
        Assert.Empty(pool.Dispatcher.Routable);
        Assert.All(workers, w => Assert.Equal([ProcessSignals.SIGTERM], _launcher.SignalsTo(w)));
        Assert.All(workers, w => Assert.Equal(WorkerState.Stopped, w.State));
        Assert.Equal(0, pool.Counters.Restarts(RecycleReasons.Crash));
        var refused = await pool.Dispatcher.AcquireAsync(CancellationToken.None);
        Assert.Equal(AcquireFailure.Stopping, refused.Failure);
    }

    [Fact(Timeout = 10_000)]
    public async Task StopAsync_WaitsForTheRequestsInHand_BeforeSigterm()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 1 });
        var worker = await SingleRoutableAsync(pool);
        Assert.Same(worker, await AcquireAsync(pool));

        var stopping = pool.StopAsync(CancellationToken.None);

        await WaitUntilAsync(() => worker.State == WorkerState.Draining, Patience);
        Assert.Empty(_launcher.SignalsTo(worker));
        Assert.False(stopping.IsCompleted);

        pool.Dispatcher.Release(worker);

        await stopping.WaitAsync(Patience);
        Assert.Equal([ProcessSignals.SIGTERM], _launcher.SignalsTo(worker));
    }

    [Fact(Timeout = 10_000)]
    public async Task StopAsync_WorkerIgnoringSigterm_GetsSigkillAfterTheStopTimeout()
    {
        _launcher.IgnoreSigterm = true;
        var stopTimeout = TimeSpan.FromSeconds(5);
        var pool = StartPool(new PoolSettings { MinWorkers = 1, StopTimeout = stopTimeout });
        var worker = await SingleRoutableAsync(pool);

        var stopping = pool.StopAsync(CancellationToken.None);

        await WaitUntilAsync(() => _launcher.SignalsTo(worker).Count == 1, Patience);
        Assert.False(stopping.IsCompleted);
        await AdvanceUntilAsync(() => _launcher.SignalsTo(worker).Count == 2, TimeSpan.FromMilliseconds(500));
        await stopping.WaitAsync(Patience);

        Assert.Equal([ProcessSignals.SIGTERM, ProcessSignals.SIGKILL], _launcher.SignalsTo(worker));
        var term = _launcher.Find(LauncherEventKind.Signal, worker, ProcessSignals.SIGTERM)!;
        var kill = _launcher.Find(LauncherEventKind.Signal, worker, ProcessSignals.SIGKILL)!;
        Assert.True(term.WholeGroup && kill.WholeGroup, "stop signals go to the whole process group");
        Assert.True(kill.At - term.At >= stopTimeout, $"SIGKILL came {kill.At - term.At} after SIGTERM");
        Assert.Equal(PoolState.Stopped, pool.State);
    }

    [Fact(Timeout = 10_000)]
    public async Task StopAsync_WhileAWorkerStarts_CancelsTheStart()
    {
        _launcher.HoldStarts = true;
        var pool = StartPool(new PoolSettings { MinWorkers = 1 });
        await WaitUntilAsync(() => _launcher.Started.Count == 1, Patience);
        var starting = _launcher.Started[0];

        await pool.StopAsync(CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(PoolState.Stopped, pool.State);
        Assert.Empty(pool.Workers);
        Assert.NotNull(_launcher.Find(LauncherEventKind.StartFailed, starting));
        Assert.Equal(WorkerState.Stopped, starting.State);
    }

    [Fact(Timeout = 10_000)]
    public async Task ReportUnreachable_TakesTheWorkerOutOfRoutingAtOnce_AndReplacesIt()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 1 });
        var dead = await SingleRoutableAsync(pool);

        pool.ReportUnreachable(dead);

        // Not Empty: the pool's loop may have made the replacement routable already.
        Assert.DoesNotContain(dead, pool.Dispatcher.Routable);
        var replacement = await AcquireAsync(pool);
        Assert.NotSame(dead, replacement);
        await WaitUntilAsync(() => !pool.Workers.Contains(dead), Patience);
        Assert.Equal([ProcessSignals.SIGTERM], _launcher.SignalsTo(dead));
        Assert.Equal(1, pool.Counters.Restarts(RecycleReasons.Crash));
        pool.Dispatcher.Release(replacement);
    }

    [Fact(Timeout = 10_000)]
    public async Task FailedApp_WithMinWorkersZero_StillGetsItsTrialStartAfterTheCooldown()
    {
        _launcher.StartResult = WorkerStartResult.Failure(Traceback);
        var cooldown = TimeSpan.FromMinutes(1);
        var pool = StartPool(
            new PoolSettings { MinWorkers = 0, MaxWorkers = 2 },
            new RestartPolicyOptions { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(10), BreakerThreshold = 2, BreakerCooldown = cooldown });
        // With no minimum, only a request asks for a worker.
        _ = pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask();
        await AdvanceUntilAsync(() => pool.State == PoolState.Failed, TimeSpan.FromMilliseconds(10));
        var failedStarts = _launcher.Started.Count;
        Assert.Equal(AcquireFailure.AppFailed, (await pool.Dispatcher.AcquireAsync(CancellationToken.None)).Failure);

        _launcher.StartResult = WorkerStartResult.Success;
        _time.Advance(cooldown);

        await AdvanceUntilAsync(() => pool.State == PoolState.Running, TimeSpan.FromMilliseconds(100));
        Assert.Equal(failedStarts + 1, _launcher.Started.Count);
        var worker = await AcquireAsync(pool);
        pool.Dispatcher.Release(worker);
    }

    [Fact(Timeout = 10_000)]
    public async Task WithoutAQueue_RefusedRequests_StillStartMoreWorkers()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 2, MaxQueue = 0 });
        var first = await SingleRoutableAsync(pool);
        Assert.Same(first, await AcquireAsync(pool));

        var refused = await pool.Dispatcher.AcquireAsync(CancellationToken.None);

        Assert.Equal(AcquireFailure.QueueFull, refused.Failure);
        await WaitUntilAsync(() => pool.Dispatcher.Routable.Count == 2, Patience);
        pool.Dispatcher.Release(first);
    }

    [Fact(Timeout = 10_000)]
    public async Task ReportRequestTimeout_TakesTheWorkerOutOfRouting_BeforeItsSlotIsReleased()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 1 });
        var hung = await SingleRoutableAsync(pool);
        Assert.Same(hung, await AcquireAsync(pool));
        var queued = pool.Dispatcher.AcquireAsync(CancellationToken.None).AsTask();

        pool.ReportRequestTimeout(hung);
        pool.Dispatcher.Release(hung);

        var next = await queued.WaitAsync(Patience);
        Assert.NotSame(hung, next.Worker);
        pool.Dispatcher.Release(next.Worker!);
        // Let the hung worker's stack-dump pause pass so it is stopped.
        await AdvanceUntilAsync(() => _launcher.SignalsTo(hung).Contains(ProcessSignals.SIGTERM), TimeSpan.FromMilliseconds(100));
    }

    [Fact(Timeout = 10_000)]
    public async Task Stop_KillsAWorkerThatReportedReadyTooLateToBeHandled()
    {
        _launcher.HoldStarts = true; // before the pool starts: its first start may run at once
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 1 });
        await WaitUntilAsync(() => _launcher.Started.Count == 1, Patience);
        var late = _launcher.Started[0];

        var stopping = pool.StopAsync(CancellationToken.None);
        _launcher.CompleteStart(late);
        await stopping.WaitAsync(Patience);

        Assert.True(late.Exited.IsCompleted, "the worker must not outlive its pool");
    }

    [Fact(Timeout = 10_000)]
    public async Task ReportRequestTimeout_DumpsStacks_ThenStopsAndReplacesTheWorker()
    {
        var pool = StartPool(new PoolSettings { MinWorkers = 1, MaxWorkers = 1 });
        var hung = await SingleRoutableAsync(pool);
        Assert.Same(hung, await AcquireAsync(pool));

        pool.ReportRequestTimeout(hung);

        await WaitUntilAsync(() => _launcher.SignalsTo(hung).Count > 0, Patience);
        var dump = _launcher.Events.First(e => e.Kind == LauncherEventKind.Signal && e.WorkerId == hung.Id);
        Assert.Equal(ProcessSignals.SIGUSR1, dump.Code);
        Assert.False(dump.WholeGroup, "the stack dump goes to the worker alone, not the app's children");
        Assert.DoesNotContain(hung, pool.Dispatcher.Routable);

        await AdvanceUntilAsync(() => _launcher.SignalsTo(hung).Count == 2, TimeSpan.FromMilliseconds(100));
        Assert.Equal([ProcessSignals.SIGUSR1, ProcessSignals.SIGTERM], _launcher.SignalsTo(hung));

        var replacement = await SingleRoutableAsync(pool);
        Assert.NotSame(hung, replacement);
        await WaitUntilAsync(() => !pool.Workers.Contains(hung), Patience);
        Assert.Equal(1, pool.Counters.Restarts(RecycleReasons.RequestTimeout));
        Assert.Equal(0, pool.Counters.Restarts(RecycleReasons.Crash));
        Assert.Equal(RecycleReasons.RequestTimeout, Assert.Single(pool.RecentRestarts).Reason);

        // The host hands the slot back once it gave up on the request.
        pool.Dispatcher.Release(hung);
        Assert.Equal(0, hung.InFlight);
    }
}
