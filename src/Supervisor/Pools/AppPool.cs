using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Processes;
using PyPE.Supervisor.Runtimes;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>
/// One app's worker pool. Request slots come from <see cref="Dispatcher"/>; everything that changes the
/// worker set (spawn on demand, replace after a crash, recycle, retire idle workers, stop) happens on one
/// control loop fed by <see cref="PoolSignal"/>s, so no two decisions race.
/// </summary>
public sealed partial class AppPool : IAsyncDisposable
{
    private const int RecentRestartsKept = 20;
    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan HungWorkerGrace = TimeSpan.FromSeconds(2);

    private readonly Channel<PoolSignal> _signals = Channel.CreateUnbounded<PoolSignal>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IWorkerLauncher _launcher;
    private readonly WorkerIdSource _ids;
    private readonly WorkerLaunchSettings _settings;
    private readonly RestartPolicy _restarts;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random = new();
    private readonly List<Worker> _workers = [];
    private readonly Queue<RestartRecord> _recentRestarts = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstOutcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _background = [];
    private Worker[] _workerSnapshot = [];
    private ITimer? _ticker;
    private ITimer? _wakeUp;
    private Task _loop = Task.CompletedTask;
    private int _scaleUpPending;

    public AppPool(AppDefinition app, RuntimeDefinition runtime, IWorkerLauncher launcher, WorkerIdSource ids, WorkerLaunchSettings settings,
        RestartPolicyOptions restartOptions, TimeProvider time, ILogger<AppPool> logger, PoolCounters? counters = null)
    {
        Counters = counters ?? new PoolCounters();
        App = app;
        Runtime = runtime;
        _launcher = launcher;
        _ids = ids;
        _settings = settings;
        _time = time;
        _logger = logger;
        _restarts = new RestartPolicy(restartOptions, time, _random);
        Dispatcher = new WorkerDispatcher(app.Pool.MaxQueue, app.Pool.QueueTimeout, time)
        {
            QueuePressure = OnQueuePressure,
            RecycleDue = worker => Post(new PoolSignal.Recycle(worker, RecycleReasons.MaxRequests)),
        };
    }

    public AppDefinition App { get; }

    public RuntimeDefinition Runtime { get; }

    public WorkerDispatcher Dispatcher { get; }

    public PoolState State { get; private set; } = PoolState.Starting;

    /// <summary>The last start failure (a traceback when the app failed to import), shown to operators.</summary>
    public string? LastError { get; private set; }

    /// <summary>Counts of worker events; shared with the pool this one replaced, so metrics stay monotonic across deploys.</summary>
    public PoolCounters Counters { get; }

    /// <summary>Every worker not yet stopped, as of the last change.</summary>
    public IReadOnlyList<Worker> Workers => Volatile.Read(ref _workerSnapshot);

    public IReadOnlyList<RestartRecord> RecentRestarts
    {
        get
        {
            lock (_recentRestarts)
            {
                return [.. _recentRestarts];
            }
        }
    }

    /// <summary>Completes when the pool first has a ready worker or has failed (for swap-on-ready deploys).</summary>
    public Task FirstOutcome => _firstOutcome.Task;

    /// <summary>Starts the control loop and the minimum number of workers.</summary>
    public void Start()
    {
        _loop = Task.Run(RunLoopAsync);
        _ticker = _time.CreateTimer(static s => ((AppPool)s!).Post(new PoolSignal.Tick()), this, TickInterval, TickInterval);
        if (App.Pool.MinWorkers == 0)
        {
            State = PoolState.Running;
            _firstOutcome.TrySetResult();
        }

        Post(new PoolSignal.ScaleUp());
        LogPoolStarted(App.Name, Runtime.Id, App.Pool.MinWorkers, App.Pool.MaxWorkers);
    }

    /// <summary>
    /// The host gave up on a request that <paramref name="worker"/> did not answer in time: dump the worker's
    /// Python stacks to the log, take it out of routing and replace it.
    /// </summary>
    public void ReportRequestTimeout(Worker worker)
    {
        // Out of routing now, before the host releases the request's slot: a free slot on a hung worker
        // would otherwise go straight to the next queued request.
        Dispatcher.Remove(worker);
        Post(new PoolSignal.Recycle(worker, RecycleReasons.RequestTimeout));
    }

    /// <summary>
    /// The host could not connect to <paramref name="worker"/>'s socket: take it out of routing at once (so a
    /// retry goes elsewhere) and replace it unless its exit is already on the way.
    /// </summary>
    public void ReportUnreachable(Worker worker)
    {
        Dispatcher.Remove(worker);
        Post(new PoolSignal.Unreachable(worker));
    }

    /// <summary>Stops routing, lets requests in hand finish, then stops every worker (SIGTERM, grace, SIGKILL).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (State is PoolState.Stopping or PoolState.Stopped)
        {
            await _loop.WaitAsync(cancellationToken);
            return;
        }

        State = PoolState.Stopping;
        Dispatcher.Close(AcquireFailure.Stopping);
        Post(new PoolSignal.Stop());
        await _loop.WaitAsync(cancellationToken);
        State = PoolState.Stopped;
        LogPoolStopped(App.Name);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(App.Pool.StopTimeout + App.Pool.RequestTimeout + TimeSpan.FromSeconds(10));
        try
        {
            await StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private void OnQueuePressure()
    {
        if (Interlocked.Exchange(ref _scaleUpPending, 1) == 0)
        {
            Post(new PoolSignal.ScaleUp());
        }
    }

    private void Post(PoolSignal signal) => _signals.Writer.TryWrite(signal);

    private async Task RunLoopAsync()
    {
        try
        {
            await foreach (var signal in _signals.Reader.ReadAllAsync())
            {
                if (signal is PoolSignal.Stop)
                {
                    break;
                }

                try
                {
                    Handle(signal);
                }
                catch (Exception ex)
                {
                    // A bug in one decision must not leave the pool without a control loop (and its
                    // queued requests without an answer): log it and go on with the next signal.
                    LogSignalFailed(ex, App.Name, signal.GetType().Name);
                }
            }
        }
        catch (Exception ex)
        {
            LogLoopFailed(ex, App.Name);
            Dispatcher.Close(AcquireFailure.AppFailed);
        }

        await ShutDownWorkersAsync();
    }

    private void Handle(PoolSignal signal)
    {
        switch (signal)
        {
            case PoolSignal.Tick:
                OnTick();
                break;
            case PoolSignal.ScaleUp:
                Volatile.Write(ref _scaleUpPending, 0);
                EnsureWorkers();
                break;
            case PoolSignal.Started started:
                OnStarted(started.Worker, started.Result);
                break;
            case PoolSignal.Exited exited:
                OnExited(exited.Worker, exited.Exit);
                break;
            case PoolSignal.Recycle recycle:
                OnRecycle(recycle.Worker, recycle.Reason);
                break;
            case PoolSignal.Unreachable unreachable:
                OnUnreachable(unreachable.Worker);
                break;
        }
    }

    /// <summary>Starts workers until the pool has what it needs: its minimum, plus enough for waiting requests.</summary>
    private void EnsureWorkers()
    {
        if (IsStopping)
        {
            return;
        }

        int serving = 0, starting = 0;
        foreach (var worker in _workers)
        {
            var state = worker.LifecycleState;
            if (state == WorkerState.Stopped)
            {
                // A worker has died and its exit is not yet handled: decide after the restart policy has
                // counted it (its Exited signal calls back here), or a crash loop would skip the backoff.
                return;
            }

            if (state == WorkerState.Starting)
            {
                starting++;
            }
            else if (state == WorkerState.Ready && worker.RecycleReason is null)
            {
                serving++;
            }
        }

        var queued = Dispatcher.QueueLength;
        var threads = App.Pool.Threads;
        var forQueue = queued == 0 ? 0 : serving + ((queued + threads - 1) / threads);
        if (Dispatcher.TakeOverflowCount() > 0)
        {
            forQueue = Math.Max(forQueue, serving + 1);
        }

        var wanted = Math.Min(Math.Max(App.Pool.MinWorkers, forQueue), App.Pool.MaxWorkers);
        if (State == PoolState.Failed)
        {
            // A failed app refuses requests, so no queue asks for workers: the trial start must come from here
            // (also for minWorkers 0).
            wanted = Math.Max(wanted, 1);
        }

        // Replacements for workers being recycled may exceed maxWorkers briefly: the old worker leaves once
        // the new one is ready, so a recycle never shrinks capacity.
        wanted = Math.Max(wanted, _workers.Count(w => w.RecycleReason is RecycleReasons.MaxRequests or RecycleReasons.Memory && w.LifecycleState == WorkerState.Ready) + serving);
        var missing = wanted - serving - starting;
        if (missing <= 0)
        {
            return;
        }

        var wait = _restarts.Wait;
        if (wait != TimeSpan.Zero)
        {
            ScheduleWakeUp(wait);
            return;
        }

        if (_restarts.BreakerOpen)
        {
            missing = 1;
            LogBreakerRetry(App.Name);
        }

        for (var i = 0; i < missing; i++)
        {
            Spawn();
        }
    }

    private void Spawn()
    {
        _restarts.OnStarting();
        var number = _ids.Next();
        var recycleAfter = App.Pool.MaxRequests == 0 ? 0 : App.Pool.MaxRequests + _random.NextInt64(0, (long)App.Pool.MaxRequestsJitter + 1);
        var socketPath = Path.Combine(_settings.RuntimeDirectory, string.Create(CultureInfo.InvariantCulture, $"w{number}.sock"));
        var worker = new Worker($"{App.Name}-{number.ToString(CultureInfo.InvariantCulture)}", App.Name, socketPath, App.Pool.Threads, recycleAfter, _time);
        _workers.Add(worker);
        PublishWorkers();
        Counters.CountSpawn();
        Track(StartWorkerAsync(worker));
    }

    private async Task StartWorkerAsync(Worker worker)
    {
        WorkerStartResult result;
        try
        {
            result = await _launcher.StartAsync(worker, App, Runtime, _stopping.Token);
        }
        catch (Exception ex)
        {
            result = WorkerStartResult.Failure(ex.ToString());
        }

        Post(new PoolSignal.Started(worker, result));
        var exit = await worker.Exited;
        Post(new PoolSignal.Exited(worker, exit));
    }

    private void OnStarted(Worker worker, WorkerStartResult result)
    {
        if (!result.Ready)
        {
            LastError = result.Error;
            Counters.CountRestart(RecycleReasons.StartFailure);
            Remember(worker, RecycleReasons.StartFailure, FirstLine(result.Error));
            if (_restarts.OnFailure())
            {
                LogBreakerOpen(App.Name, _restarts.ConsecutiveFailures, result.Error ?? "");
            }

            RemoveWorker(worker);
            if (_restarts.BreakerOpen)
            {
                FailIfNothingServes();
                _firstOutcome.TrySetResult();
            }

            EnsureWorkers();
            return;
        }

        if (_stopping.IsCancellationRequested || !worker.TryMove(WorkerState.Ready))
        {
            // Stopping, or it died between reporting ready and now: its exit is handled as a crash.
            return;
        }

        _restarts.OnReady();
        if (State is PoolState.Starting or PoolState.Failed)
        {
            State = PoolState.Running;
            LastError = null;
            Dispatcher.Reopen();
        }

        Dispatcher.Add(worker);
        _firstOutcome.TrySetResult();
        PublishWorkers();

        // Replacement first, then drain: a worker waiting for its successor can leave now.
        var retiring = _workers.FirstOrDefault(w => w.RecycleReason is not null && w != worker && w.LifecycleState == WorkerState.Ready);
        if (retiring is not null)
        {
            Track(DrainAndStopAsync(retiring, App.Pool.StopTimeout));
        }

        EnsureWorkers();
    }

    private void OnExited(Worker worker, WorkerExit exit)
    {
        Dispatcher.Remove(worker);
        var wasServing = worker.ReadyAt is not null;
        RemoveWorker(worker);
        if (exit.Expected || !wasServing || _stopping.IsCancellationRequested)
        {
            LogWorkerExited(App.Name, worker.Id, worker.Pid, exit.ExitCode);
            EnsureWorkers();
            return;
        }

        var uptime = worker.Uptime(_time);
        LogWorkerCrashed(App.Name, worker.Id, worker.Pid, exit.ExitCode, uptime.TotalSeconds);
        Counters.CountRestart(RecycleReasons.Crash);
        Remember(worker, RecycleReasons.Crash, string.Create(CultureInfo.InvariantCulture, $"exit code {exit.ExitCode}"));
        if (_restarts.OnCrash(uptime))
        {
            LastError = $"workers keep crashing (last: {worker.Id} exited with code {exit.ExitCode.ToString(CultureInfo.InvariantCulture)})";
            LogBreakerOpen(App.Name, _restarts.ConsecutiveFailures, LastError);
        }

        if (_restarts.BreakerOpen)
        {
            FailIfNothingServes();
        }

        EnsureWorkers();
    }

    /// <summary>
    /// With the breaker open, the app is failed (503 to every request) only once no worker serves: workers
    /// still up keep serving, and their queue is what asks for the next trial start.
    /// </summary>
    private void FailIfNothingServes()
    {
        if (IsStopping || _workers.Any(w => w.LifecycleState == WorkerState.Ready))
        {
            return;
        }

        State = PoolState.Failed;
        Dispatcher.Close(AcquireFailure.AppFailed);
    }

    private bool IsStopping => State is PoolState.Stopping or PoolState.Stopped || _stopping.IsCancellationRequested;

    private void OnRecycle(Worker worker, string reason)
    {
        if (!_workers.Contains(worker) || worker.LifecycleState != WorkerState.Ready)
        {
            return;
        }

        if (reason == RecycleReasons.RequestTimeout)
        {
            // A hung worker is of no use: dump its stacks, drop it from routing now and replace it.
            worker.RecycleReason = reason;
            Counters.CountRestart(reason);
            Remember(worker, reason, null);
            LogStackDump(App.Name, worker.Id, worker.Pid);
            _launcher.Signal(worker, ProcessSignals.SIGUSR1, wholeGroup: false);
            Dispatcher.Remove(worker);
            Track(DrainAndStopAsync(worker, HungWorkerGrace, dumpedStacks: true));
            EnsureWorkers();
            return;
        }

        if (worker.RecycleReason is not null && worker.RecycleReason != reason)
        {
            return;
        }

        worker.RecycleReason = reason;
        Counters.CountRestart(reason);
        Remember(worker, reason, reason == RecycleReasons.MaxRequests
            ? string.Create(CultureInfo.InvariantCulture, $"{worker.RequestsServed} requests")
            : string.Create(CultureInfo.InvariantCulture, $"{worker.MemoryBytes / (1024 * 1024)} MiB"));
        LogRecycling(App.Name, worker.Id, worker.Pid, reason);
        EnsureWorkers();
    }

    private void OnUnreachable(Worker worker)
    {
        if (!_workers.Contains(worker) || worker.LifecycleState != WorkerState.Ready || !_launcher.IsRunning(worker))
        {
            // Already gone or going: its exit does the bookkeeping.
            return;
        }

        // Alive but not accepting connections: of no use. Stop it; its replacement comes from EnsureWorkers.
        worker.RecycleReason = RecycleReasons.Crash;
        Counters.CountRestart(RecycleReasons.Crash);
        Remember(worker, RecycleReasons.Crash, "its socket refused connections");
        Track(DrainAndStopAsync(worker, HungWorkerGrace));
        EnsureWorkers();
    }

    private void OnTick()
    {
        var now = _time.GetTimestamp();
        Worker? idleCandidate = null;
        var serving = 0;
        // A copy: recycling a worker below may start its replacement, which adds to _workers.
        foreach (var worker in _workers.ToArray())
        {
            if (worker.LifecycleState != WorkerState.Ready)
            {
                continue;
            }

            if (worker.ReadyAt is { } readyAt)
            {
                _restarts.OnUptime(readyAt);
            }

            if (ProcessMemory.ResidentBytes(worker.Pid) is { } rss)
            {
                worker.MemoryBytes = rss;
                if (App.Pool.MemoryLimitBytes > 0 && rss > App.Pool.MemoryLimitBytes && worker.RecycleReason is null)
                {
                    OnRecycle(worker, RecycleReasons.Memory);
                }
            }

            if (worker.RecycleReason is null)
            {
                serving++;
                if (worker.InFlight == 0 && _time.GetElapsedTime(worker.LastActiveTimestamp, now) >= App.Pool.IdleTimeout
                    && (idleCandidate is null || worker.LastActiveTimestamp < idleCandidate.LastActiveTimestamp))
                {
                    idleCandidate = worker;
                }
            }
        }

        if (idleCandidate is not null && serving > App.Pool.MinWorkers && Dispatcher.QueueLength == 0)
        {
            idleCandidate.RecycleReason = RecycleReasons.Idle;
            Counters.CountIdleRetired();
            LogRetiringIdle(App.Name, idleCandidate.Id, idleCandidate.Pid);
            Track(DrainAndStopAsync(idleCandidate, App.Pool.StopTimeout));
        }

        EnsureWorkers();
    }

    /// <summary>Stop routing, wait for the requests in hand, SIGTERM the process group, grace, SIGKILL.</summary>
    private async Task DrainAndStopAsync(Worker worker, TimeSpan grace, bool dumpedStacks = false)
    {
        Dispatcher.Remove(worker);
        worker.TryMove(WorkerState.Draining);
        if (!dumpedStacks)
        {
            // Requests in hand are bounded by the request timeout; after that the host has given up on them.
            await AwaitQuietly(worker.Drained.Task, App.Pool.RequestTimeout + TimeSpan.FromSeconds(1));
        }
        else
        {
            // Let faulthandler write the stacks before the process is told to stop.
            await AwaitQuietly(worker.Exited, TimeSpan.FromMilliseconds(300));
        }

        await StopProcessAsync(worker, grace);
    }

    private async Task StopProcessAsync(Worker worker, TimeSpan grace)
    {
        worker.StopRequested = true;
        worker.TryMove(WorkerState.Stopping);
        if (worker.Exited.IsCompleted)
        {
            return;
        }

        if (grace == TimeSpan.Zero)
        {
            _launcher.Signal(worker, ProcessSignals.SIGKILL);
            await AwaitQuietly(worker.Exited, TimeSpan.FromSeconds(10));
            return;
        }

        LogStopping(App.Name, worker.Id, worker.Pid, grace.TotalSeconds);
        _launcher.Signal(worker, ProcessSignals.SIGTERM);
        if (await AwaitQuietly(worker.Exited, grace))
        {
            return;
        }

        LogKilled(App.Name, worker.Id, worker.Pid, grace.TotalSeconds);
        _launcher.Signal(worker, ProcessSignals.SIGKILL);
        await AwaitQuietly(worker.Exited, TimeSpan.FromSeconds(10));
    }

    private async Task ShutDownWorkersAsync()
    {
        await _stopping.CancelAsync();
        _ticker?.Dispose();
        _wakeUp?.Dispose();
        // Ready workers drain and stop. Starting ones are killed: usually the launcher sees the cancellation
        // and does it, but a worker that reported ready just before the Stop signal would otherwise be missed
        // (its Started signal sits behind Stop in the channel and is never handled).
        var stops = _workers
            .Select(w => w.LifecycleState switch
            {
                WorkerState.Ready => DrainAndStopAsync(w, App.Pool.StopTimeout),
                WorkerState.Starting => StopProcessAsync(w, TimeSpan.Zero),
                _ => Task.CompletedTask,
            })
            .ToList();
        await Task.WhenAll(stops);
        Task[] background;
        lock (_background)
        {
            background = [.. _background];
        }

        // Starts under way see the cancellation and kill their process; drains already under way finish.
        await AwaitQuietly(Task.WhenAll(background), App.Pool.StopTimeout + App.Pool.RequestTimeout + TimeSpan.FromSeconds(5));
        foreach (var worker in _workers)
        {
            worker.Client?.Dispose();
        }

        _workers.Clear();
        PublishWorkers();
    }

    private async Task<bool> AwaitQuietly(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout, _time);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception)
        {
            return task.IsCompleted;
        }
    }

    private void ScheduleWakeUp(TimeSpan wait)
    {
        if (wait == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        _wakeUp?.Dispose();
        _wakeUp = _time.CreateTimer(static s => ((AppPool)s!).Post(new PoolSignal.ScaleUp()), this, wait, Timeout.InfiniteTimeSpan);
        LogRestartScheduled(App.Name, wait.TotalMilliseconds);
    }

    private void Track(Task task)
    {
        lock (_background)
        {
            _background.RemoveAll(t => t.IsCompleted);
            _background.Add(task);
        }
    }

    private void RemoveWorker(Worker worker)
    {
        if (_workers.Remove(worker))
        {
            PublishWorkers();
        }

        if (worker.Exited.IsCompleted)
        {
            worker.Client?.Dispose();
        }
    }

    private void PublishWorkers() => Volatile.Write(ref _workerSnapshot, [.. _workers]);

    private void Remember(Worker worker, string reason, string? detail)
    {
        lock (_recentRestarts)
        {
            if (_recentRestarts.Count == RecentRestartsKept)
            {
                _recentRestarts.Dequeue();
            }

            _recentRestarts.Enqueue(new RestartRecord(_time.GetUtcNow(), worker.Id, worker.Pid, reason, detail));
        }
    }

    private static string? FirstLine(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var lines = text.TrimEnd().Split('\n');
        return lines[^1].Trim();
    }
}
