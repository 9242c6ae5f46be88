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
    private readonly RecentRestarts _recentRestarts;
    private readonly WorkerStopper _stopper;
    private readonly IPoolObserver? _observer;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstOutcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _background = [];
    private Worker[] _workerSnapshot = [];
    private ITimer? _ticker;
    private ITimer? _wakeUp;
    private ITimer? _growCheck;
    private int _growCheckPending;
    private Task _loop = Task.CompletedTask;
    private int _scaleUpPending;

    /// <summary>
    /// False while a waiting request cannot make the pool start a worker: maxWorkers healthy workers (ready or
    /// starting, none being recycled) and the pool not failed. Set by the control loop after each signal; every
    /// change that could make it true again (an exit, a recycle, a failure) reaches the loop as a signal first.
    /// </summary>
    private volatile bool _mayGrow = true;

    public AppPool(AppDefinition app, RuntimeDefinition runtime, IWorkerLauncher launcher, WorkerIdSource ids, WorkerLaunchSettings settings,
        RestartPolicyOptions restartOptions, TimeProvider time, ILogger<AppPool> logger, PoolCounters? counters = null, IPoolObserver? observer = null)
    {
        _observer = observer;
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
        _recentRestarts = new RecentRestarts(time);
        _stopper = new WorkerStopper(app.Name, app.Pool.RequestTimeout, Dispatcher, launcher, time, logger);
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

    /// <summary>The last worker replacements, newest last.</summary>
    public IReadOnlyList<RestartRecord> RecentRestarts => _recentRestarts.Snapshot();

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

    /// <summary>True while <paramref name="worker"/>'s process exists and has not exited (not even as a zombie).</summary>
    public bool IsRunning(Worker worker) => _launcher.IsRunning(worker);

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
        // At saturation every request queues: without this check each one woke the control loop for nothing.
        if (!_mayGrow)
        {
            return;
        }

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
                    _mayGrow = MayGrow();
                }
                catch (Exception ex)
                {
                    // A bug in one decision must not leave the pool without a control loop (and its
                    // queued requests without an answer): log it and go on with the next signal.
                    LogSignalFailed(ex, App.Name, signal.GetType().Name);
                    _mayGrow = true;
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
                // A full fence, not a plain store: the queue and overflow reads that follow must not be done before
                // other threads can see the flag down, or a request queued or refused in between finds it still up,
                // posts nothing, and is not seen here either (a lost wake-up; seen once in CI).
                Interlocked.Exchange(ref _scaleUpPending, 0);
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

    /// <summary>Whether <see cref="EnsureWorkers"/> could start a worker for a longer queue (see <see cref="_mayGrow"/>).</summary>
    private bool MayGrow()
    {
        if (IsStopping || State == PoolState.Failed)
        {
            return true;
        }

        var healthy = 0;
        foreach (var worker in _workers)
        {
            var state = worker.LifecycleState;
            if (state == WorkerState.Starting || (state == WorkerState.Ready && worker.RecycleReason is null))
            {
                healthy++;
            }
            else
            {
                return true; // recycling, draining, stopped: the loop decides on queue pressure as before
            }
        }

        return healthy < App.Pool.MaxWorkers;
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

        var recycling = _workers.Count(w => w.RecycleReason is RecycleReasons.MaxRequests or RecycleReasons.Memory && w.LifecycleState == WorkerState.Ready);
        // One reading of the refused requests for the whole decision: those refused meanwhile are the next one's.
        var overflowed = Dispatcher.Overflowed;
        var wanted = PoolSizing.Wanted(App.Pool, serving, recycling, QueueAskingToGrow(serving + starting, overflowed > 0), overflowed > 0, State == PoolState.Failed);
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

        Dispatcher.ClearOverflow(overflowed);
        for (var i = 0; i < missing; i++)
        {
            Spawn();
        }
    }

    /// <summary>
    /// The queue's length as a reason to grow: all of it once its longest waiter has waited <c>growAfterSeconds</c>
    /// (or at once without that setting); before, nothing, and a look again when that time comes — a queue that
    /// clears sooner starts no worker. A pool with no worker at all, or a full queue, grows at once: nothing
    /// would serve the queue otherwise, or requests are being turned away. At <c>maxWorkers</c> nothing is armed.
    /// </summary>
    /// <param name="workers">Workers serving or starting.</param>
    /// <param name="overflowed">Requests were refused with a full queue (the decision's one reading of it).</param>
    private int QueueAskingToGrow(int workers, bool overflowed)
    {
        var queued = Dispatcher.QueueLength;
        var growAfter = App.Pool.GrowAfter;
        if (queued == 0 || growAfter <= TimeSpan.Zero || workers == 0 || overflowed || State == PoolState.Failed)
        {
            return queued;
        }

        if (workers >= App.Pool.MaxWorkers)
        {
            return 0;
        }

        var waited = Dispatcher.LongestWait();
        if (waited >= growAfter)
        {
            return queued;
        }

        // One look pending at a time (every queued request asks the loop again meanwhile). The flag, not a due time,
        // says whether one is pending: a timer may fire a little early, and its look must then arm the next.
        if (Interlocked.Exchange(ref _growCheckPending, 1) == 0)
        {
            _growCheck?.Dispose();
            _growCheck = _time.CreateTimer(static s => ((AppPool)s!).OnGrowCheckDue(), this, growAfter - waited, Timeout.InfiniteTimeSpan);
        }

        return 0;
    }

    private void OnGrowCheckDue()
    {
        Volatile.Write(ref _growCheckPending, 0);
        Post(new PoolSignal.ScaleUp());
    }

    private void Spawn()
    {
        _restarts.OnStarting();
        var number = _ids.Next();
        var recycleAfter = App.Pool.MaxRequests == 0 ? 0 : App.Pool.MaxRequests + _random.NextInt64(0, (long)App.Pool.MaxRequestsJitter + 1);
        var socketPath = Path.Combine(_settings.RuntimeDirectory, string.Create(CultureInfo.InvariantCulture, $"w{number}.sock"));
        var worker = new Worker($"{App.Name}-{number.ToString(CultureInfo.InvariantCulture)}", App.Name, socketPath, App.Pool.Threads, recycleAfter, _time, App.Pool.Prefetch);
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

    private async Task ShutDownWorkersAsync()
    {
        await _stopping.CancelAsync();
        _ticker?.Dispose();
        _wakeUp?.Dispose();
        _growCheck?.Dispose();
        // Ready workers drain and stop. Starting ones are killed: usually the launcher sees the cancellation
        // and does it, but a worker that reported ready just before the Stop signal would otherwise be missed
        // (its Started signal sits behind Stop in the channel and is never handled).
        var stops = _workers
            .Select(w => w.LifecycleState switch
            {
                WorkerState.Ready => _stopper.DrainAndStopAsync(w, App.Pool.StopTimeout),
                WorkerState.Starting => _stopper.StopProcessAsync(w, TimeSpan.Zero),
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
        await WorkerStopper.AwaitQuietly(Task.WhenAll(background), App.Pool.StopTimeout + App.Pool.RequestTimeout + TimeSpan.FromSeconds(5), _time);
        foreach (var worker in _workers)
        {
            worker.Connections?.Dispose();
            worker.Tickets?.Dispose();
        }

        _workers.Clear();
        PublishWorkers();
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
            worker.Connections?.Dispose();
            worker.Tickets?.Dispose();
        }
    }

    private void PublishWorkers() => Volatile.Write(ref _workerSnapshot, [.. _workers]);

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
