using Microsoft.Extensions.Logging;

namespace PyPE.Supervisor.Pools;

public sealed partial class AppPool
{
    [LoggerMessage(EventId = LogEvents.PoolStarted, Level = LogLevel.Information, Message = "App {App} starting on platform version {Runtime} with {MinWorkers} to {MaxWorkers} workers")]
    private partial void LogPoolStarted(string app, string runtime, int minWorkers, int maxWorkers);

    [LoggerMessage(EventId = LogEvents.PoolStopped, Level = LogLevel.Information, Message = "App {App} stopped")]
    private partial void LogPoolStopped(string app);

    [LoggerMessage(EventId = LogEvents.PoolLoopFailed, Level = LogLevel.Critical, Message = "The control loop of app {App} failed; its workers are being stopped")]
    private partial void LogLoopFailed(Exception exception, string app);

    [LoggerMessage(EventId = LogEvents.PoolSignalFailed, Level = LogLevel.Error, Message = "App {App}: handling {Signal} failed; the pool carries on")]
    private partial void LogSignalFailed(Exception exception, string app, string signal);

    [LoggerMessage(EventId = LogEvents.PoolBreakerOpen, Level = LogLevel.Error, Message = "App {App} is failed after {Failures} consecutive worker failures; requests get 503 until a retry succeeds. Last error:\n{Error}")]
    private partial void LogBreakerOpen(string app, int failures, string error);

    [LoggerMessage(EventId = LogEvents.PoolBreakerRetry, Level = LogLevel.Information, Message = "App {App} is failed; trying one worker again")]
    private partial void LogBreakerRetry(string app);

    [LoggerMessage(EventId = LogEvents.PoolRestartScheduled, Level = LogLevel.Debug, Message = "App {App} starts its next worker in {DelayMilliseconds:0} ms (restart backoff)")]
    private partial void LogRestartScheduled(string app, double delayMilliseconds);

    [LoggerMessage(EventId = LogEvents.WorkerExited, Level = LogLevel.Information, Message = "Worker {WorkerId} of {App} (pid {Pid}) exited with code {ExitCode}")]
    private partial void LogWorkerExited(string app, string workerId, int pid, int exitCode);

    [LoggerMessage(EventId = LogEvents.WorkerCrashed, Level = LogLevel.Error, Message = "Worker {WorkerId} of {App} (pid {Pid}) died unexpectedly with code {ExitCode} after {UptimeSeconds:0.0} s; replacing it")]
    private partial void LogWorkerCrashed(string app, string workerId, int pid, int exitCode, double uptimeSeconds);

    [LoggerMessage(EventId = LogEvents.PoolRecycling, Level = LogLevel.Information, Message = "Recycling worker {WorkerId} of {App} (pid {Pid}): {Reason}; its replacement starts first")]
    private partial void LogRecycling(string app, string workerId, int pid, string reason);

    [LoggerMessage(EventId = LogEvents.PoolRetiringIdle, Level = LogLevel.Information, Message = "Retiring idle worker {WorkerId} of {App} (pid {Pid})")]
    private partial void LogRetiringIdle(string app, string workerId, int pid);

    [LoggerMessage(EventId = LogEvents.WorkerStackDump, Level = LogLevel.Error, Message = "Worker {WorkerId} of {App} (pid {Pid}) did not answer within the request timeout; its Python stacks follow in its output, then it is replaced")]
    private partial void LogStackDump(string app, string workerId, int pid);
}
