using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Processes;
using PyPE.Supervisor.Runtimes;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Tests.TestSupport;

internal enum LauncherEventKind
{
    Start,
    Ready,
    StartFailed,
    Signal,
    Exit,
}

/// <summary>One thing the fake launcher was asked to do or did.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="WorkerId">To which worker.</param>
/// <param name="Code">The signal number of a <see cref="LauncherEventKind.Signal"/>, the exit code of an <see cref="LauncherEventKind.Exit"/>.</param>
/// <param name="WholeGroup">For a signal: sent to the process group rather than the worker alone.</param>
/// <param name="At">When, on the fake clock.</param>
internal sealed record LauncherEvent(LauncherEventKind Kind, string WorkerId, int Code, bool WholeGroup, DateTimeOffset At);

/// <summary>
/// An <see cref="IWorkerLauncher"/> without processes. Each start ends as <see cref="StartResult"/> says, at once or,
/// with <see cref="HoldStarts"/>, when the test calls <see cref="CompleteStart"/>. A worker "exits" when the test
/// crashes it or when it gets SIGTERM (exit code 0, unless <see cref="IgnoreSigterm"/>) or SIGKILL (137).
/// </summary>
internal sealed class FakeWorkerLauncher(TimeProvider time) : IWorkerLauncher
{
    private readonly Lock _lock = new();
    private readonly List<LauncherEvent> _events = [];
    private readonly List<Worker> _started = [];
    private readonly Dictionary<Worker, TaskCompletionSource<WorkerExit>> _exits = [];
    private readonly Dictionary<Worker, TaskCompletionSource<WorkerStartResult>> _heldStarts = [];
    private WorkerStartResult _startResult = WorkerStartResult.Success;
    private bool _holdStarts;
    private bool _ignoreSigterm;

    /// <summary>How starts end (default: ready).</summary>
    public WorkerStartResult StartResult
    {
        get { lock (_lock) { return _startResult; } }
        set { lock (_lock) { _startResult = value; } }
    }

    /// <summary>When true, new starts wait for <see cref="CompleteStart"/>.</summary>
    public bool HoldStarts
    {
        get { lock (_lock) { return _holdStarts; } }
        set { lock (_lock) { _holdStarts = value; } }
    }

    /// <summary>When true, workers survive SIGTERM (only SIGKILL ends them).</summary>
    public bool IgnoreSigterm
    {
        get { lock (_lock) { return _ignoreSigterm; } }
        set { lock (_lock) { _ignoreSigterm = value; } }
    }

    /// <summary>Every worker a start was asked for, in order.</summary>
    public IReadOnlyList<Worker> Started
    {
        get { lock (_lock) { return [.. _started]; } }
    }

    public IReadOnlyList<LauncherEvent> Events
    {
        get { lock (_lock) { return [.. _events]; } }
    }

    /// <summary>The signals <paramref name="worker"/> got, in order.</summary>
    public IReadOnlyList<int> SignalsTo(Worker worker) =>
        [.. Events.Where(e => e.Kind == LauncherEventKind.Signal && e.WorkerId == worker.Id).Select(e => e.Code)];

    /// <summary>The first event of <paramref name="kind"/> for <paramref name="worker"/> (with that signal or exit code, if given).</summary>
    public LauncherEvent? Find(LauncherEventKind kind, Worker worker, int? code = null) =>
        Events.FirstOrDefault(e => e.Kind == kind && e.WorkerId == worker.Id && (code is null || e.Code == code));

    /// <summary>Position of that event in <see cref="Events"/>, or -1.</summary>
    public int IndexOf(LauncherEventKind kind, Worker worker, int? code = null) =>
        Events.ToList().FindIndex(e => e.Kind == kind && e.WorkerId == worker.Id && (code is null || e.Code == code));

    public async Task<WorkerStartResult> StartAsync(Worker worker, AppDefinition app, RuntimeDefinition runtime, CancellationToken cancellationToken)
    {
        var exit = new TaskCompletionSource<WorkerExit>(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcome = new TaskCompletionSource<WorkerStartResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        worker.Exited = exit.Task;
        lock (_lock)
        {
            _started.Add(worker);
            _exits[worker] = exit;
            Record(LauncherEventKind.Start, worker);
            if (_holdStarts)
            {
                _heldStarts[worker] = outcome;
            }
            else
            {
                outcome.SetResult(_startResult);
            }
        }

        WorkerStartResult result;
        using (cancellationToken.Register(() => outcome.TrySetResult(WorkerStartResult.Failure("the pool stopped while the worker was starting"))))
        {
            result = await outcome.Task;
        }

        if (result.Ready)
        {
            // The real launcher stamps readiness; the pool tells a crash from a failed start by it.
            worker.ReadyAt = time.GetUtcNow();
            lock (_lock)
            {
                Record(LauncherEventKind.Ready, worker);
            }

            return result;
        }

        // Like the real launcher: a failed start is killed and reaped before the failure is reported.
        lock (_lock)
        {
            Record(LauncherEventKind.StartFailed, worker);
        }

        worker.StopRequested = true;
        worker.TryMove(WorkerState.Stopping);
        Exit(worker, 1, result.Error);
        return result;
    }

    /// <summary>Ends a start held by <see cref="HoldStarts"/> (ready unless <paramref name="result"/> says otherwise).</summary>
    public void CompleteStart(Worker worker, WorkerStartResult? result = null)
    {
        TaskCompletionSource<WorkerStartResult>? held;
        lock (_lock)
        {
            _heldStarts.Remove(worker, out held);
        }

        Assert.True(held is not null, $"no start of {worker.Id} is held");
        held.TrySetResult(result ?? WorkerStartResult.Success);
    }

    public bool IsRunning(Worker worker) => !worker.Exited.IsCompleted;

    public void Signal(Worker worker, int signal, bool wholeGroup = true)
    {
        bool ignoreSigterm;
        lock (_lock)
        {
            _events.Add(new LauncherEvent(LauncherEventKind.Signal, worker.Id, signal, wholeGroup, time.GetUtcNow()));
            ignoreSigterm = _ignoreSigterm;
        }

        if (signal == ProcessSignals.SIGKILL)
        {
            Exit(worker, 137, null);
        }
        else if (signal == ProcessSignals.SIGTERM && !ignoreSigterm)
        {
            Exit(worker, 0, null);
        }
    }

    /// <summary>The worker's process dies on its own.</summary>
    public void Crash(Worker worker, int exitCode = 1) => Exit(worker, exitCode, null);

    private void Exit(Worker worker, int exitCode, string? startupError)
    {
        lock (_lock)
        {
            var exit = _exits[worker];
            if (exit.Task.IsCompleted)
            {
                return;
            }

            Record(LauncherEventKind.Exit, worker, exitCode);
            // Like the real launcher: the worker is Stopped before its exit is reported; continuations run elsewhere.
            worker.TryMove(WorkerState.Stopped);
            exit.TrySetResult(new WorkerExit(exitCode, worker.StopRequested, startupError));
        }
    }

    private void Record(LauncherEventKind kind, Worker worker, int code = 0) =>
        _events.Add(new LauncherEvent(kind, worker.Id, code, false, time.GetUtcNow()));
}
