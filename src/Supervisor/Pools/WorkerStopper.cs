using Microsoft.Extensions.Logging;
using PyPE.Supervisor.Processes;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>
/// How a worker leaves: out of routing, its requests in hand finished (bounded by the request timeout),
/// SIGTERM to its process group, a grace period, then SIGKILL. Never kill-only, never unbounded.
/// </summary>
internal sealed partial class WorkerStopper(string appName, TimeSpan requestTimeout, WorkerDispatcher dispatcher, IWorkerLauncher launcher, TimeProvider time, ILogger logger)
{
    /// <summary>Stop routing, wait for the requests in hand, SIGTERM the process group, grace, SIGKILL.</summary>
    public async Task DrainAndStopAsync(Worker worker, TimeSpan grace, bool dumpedStacks = false)
    {
        dispatcher.Remove(worker);
        worker.TryMove(WorkerState.Draining);
        if (!dumpedStacks)
        {
            // Requests in hand are bounded by the request timeout; after that the host has given up on them.
            await AwaitQuietly(worker.Drained.Task, requestTimeout + TimeSpan.FromSeconds(1), time);
        }
        else
        {
            // Let faulthandler write the stacks before the process is told to stop.
            await AwaitQuietly(worker.Exited, TimeSpan.FromMilliseconds(300), time);
        }

        await StopProcessAsync(worker, grace);
    }

    public async Task StopProcessAsync(Worker worker, TimeSpan grace)
    {
        worker.StopRequested = true;
        worker.TryMove(WorkerState.Stopping);
        if (worker.Exited.IsCompleted)
        {
            return;
        }

        if (grace == TimeSpan.Zero)
        {
            launcher.Signal(worker, ProcessSignals.SIGKILL);
            await AwaitQuietly(worker.Exited, TimeSpan.FromSeconds(10), time);
            return;
        }

        LogStopping(appName, worker.Id, worker.Pid, grace.TotalSeconds);
        launcher.Signal(worker, ProcessSignals.SIGTERM);
        if (await AwaitQuietly(worker.Exited, grace, time))
        {
            return;
        }

        LogKilled(appName, worker.Id, worker.Pid, grace.TotalSeconds);
        launcher.Signal(worker, ProcessSignals.SIGKILL);
        await AwaitQuietly(worker.Exited, TimeSpan.FromSeconds(10), time);
    }

    /// <summary>Waits for <paramref name="task"/> up to <paramref name="timeout"/>; true when it completed.</summary>
    public static async Task<bool> AwaitQuietly(Task task, TimeSpan timeout, TimeProvider time)
    {
        try
        {
            await task.WaitAsync(timeout, time);
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

    [LoggerMessage(EventId = LogEvents.WorkerStopping, Level = LogLevel.Debug, Message = "Stopping worker {WorkerId} of {App} (pid {Pid}): SIGTERM, {GraceSeconds} s grace")]
    private partial void LogStopping(string app, string workerId, int pid, double graceSeconds);

    [LoggerMessage(EventId = LogEvents.WorkerKilled, Level = LogLevel.Warning, Message = "Worker {WorkerId} of {App} (pid {Pid}) ignored SIGTERM for {GraceSeconds} s; sent SIGKILL")]
    private partial void LogKilled(string app, string workerId, int pid, double graceSeconds);
}
