using System.Globalization;
using PyPE.Supervisor.Processes;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>The control loop's handlers of worker events: started, exited, recycle due, unreachable, tick.</summary>
public sealed partial class AppPool
{
    private void OnStarted(Worker worker, WorkerStartResult result)
    {
        if (!result.Ready)
        {
            LastError = result.Error;
            Counters.CountRestart(RecycleReasons.StartFailure);
            _recentRestarts.Add(worker, RecycleReasons.StartFailure, FirstLine(result.Error));
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
        if (worker.ReadyAt is { } readyAt)
        {
            _observer?.WorkerReady(App.Name, Runtime.Id, readyAt - worker.CreatedAt);
        }

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
            Track(_stopper.DrainAndStopAsync(retiring, App.Pool.StopTimeout));
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
        _recentRestarts.Add(worker, RecycleReasons.Crash, string.Create(CultureInfo.InvariantCulture, $"exit code {exit.ExitCode}"));
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
            _recentRestarts.Add(worker, reason, null);
            LogStackDump(App.Name, worker.Id, worker.Pid);
            _launcher.Signal(worker, ProcessSignals.SIGUSR1, wholeGroup: false);
            Dispatcher.Remove(worker);
            Track(_stopper.DrainAndStopAsync(worker, HungWorkerGrace, dumpedStacks: true));
            EnsureWorkers();
            return;
        }

        if (worker.RecycleReason is not null && worker.RecycleReason != reason)
        {
            return;
        }

        worker.RecycleReason = reason;
        Counters.CountRestart(reason);
        _recentRestarts.Add(worker, reason, reason == RecycleReasons.MaxRequests
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
        _recentRestarts.Add(worker, RecycleReasons.Crash, "its socket refused connections");
        Track(_stopper.DrainAndStopAsync(worker, HungWorkerGrace));
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
            Track(_stopper.DrainAndStopAsync(idleCandidate, App.Pool.StopTimeout));
        }

        EnsureWorkers();
    }
}
