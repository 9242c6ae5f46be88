using System.Collections;
using System.Globalization;
using CliWrap;
using Microsoft.Extensions.Logging;
using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Processes;
using PyPE.Supervisor.Runtimes;

namespace PyPE.Supervisor.Workers;

/// <summary>
/// Spawns worker processes (CliWrap: spawn and line-by-line output piping) and waits until each reports
/// ready on the notify socket, fails to import its app, exits, or runs out of start time.
/// </summary>
public sealed partial class WorkerLauncher(WorkerNotifyListener notify, WorkerLaunchSettings settings, ILogger<WorkerLauncher> logger, TimeProvider time)
    : IWorkerLauncher
{
    // Variables of the host's own supervisor or interpreter that must not leak into a worker.
    private static readonly string[] ScrubbedVariables =
    [
        "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONINSPECT", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
        "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "ASPNETCORE_URLS", "DOTNET_STARTUP_HOOKS",
        // The host's own socket mode (PyPE.Host sets it for itself): not the app's business.
        "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS",
    ];

    public async Task<WorkerStartResult> StartAsync(Worker worker, AppDefinition app, RuntimeDefinition runtime, CancellationToken cancellationToken)
    {
        var recentErrors = new RecentLines(40);
        var notified = notify.Expect(worker.Id);
        var environment = BuildEnvironment(worker, app, runtime);
        var pid = 0;

        var command = Cli.Wrap(runtime.Python)
            .WithArguments(["-u", ShimLocation.Path])
            .WithWorkingDirectory(app.Root)
            .WithEnvironmentVariables(environment)
            .WithValidation(CommandResultValidation.None)
            // Never written to: the pipe closes when the host dies, however it dies, and the shim takes
            // that end-of-file as its cue to exit. No orphans, without relying on PR_SET_PDEATHSIG, which
            // fires when the forking *thread* exits, and .NET forks from pool threads.
            .WithStandardInputPipe(PipeSource.Create(async (_, ct) => await Task.Delay(Timeout.Infinite, ct)))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line => LogWorkerOutput(app.Name, worker.Id, pid, line)))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line =>
            {
                recentErrors.Add(line);
                LogWorkerErrorOutput(app.Name, worker.Id, pid, line);
            }));

        CommandTask<CommandResult> execution;
        try
        {
            execution = command.ExecuteAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            notify.Forget(worker.Id);
            worker.Exited = Task.FromResult(new WorkerExit(-1, false, ex.Message));
            return WorkerStartResult.Failure($"could not start '{runtime.Python}': {ex.Message}");
        }

        pid = execution.ProcessId;
        worker.Pid = pid;
        worker.Exited = WatchExitAsync(worker, execution, notified);
        LogSpawned(app.Name, worker.Id, pid, runtime.Id);

        using var startTimeout = new CancellationTokenSource(app.Pool.StartTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(startTimeout.Token, cancellationToken);
        var exited = worker.Exited;
        var timedOut = Task.Delay(Timeout.Infinite, linked.Token);
        var first = await Task.WhenAny(notified, exited, timedOut);

        if (first == notified && notified.Result is { Ready: true })
        {
            worker.ReadyAt = time.GetUtcNow();
            worker.Connections = new WorkerConnectionPool(worker);
            if (worker.Prefetch > 0)
            {
                worker.Tickets = TicketTable.TryCreate(worker.SocketPath + ".tickets");
            }
            var startMilliseconds = (worker.ReadyAt.Value - worker.CreatedAt).TotalMilliseconds;
            LogReady(app.Name, worker.Id, pid, startMilliseconds);
            return WorkerStartResult.Success;
        }

        notify.Forget(worker.Id);
        string error;
        if (first == notified)
        {
            error = notified.Result.Error ?? "the worker reported a failure without a traceback";
        }
        else if (first == exited)
        {
            var exit = await exited;
            error = exit.StartupError ?? $"the worker exited with code {exit.ExitCode.ToString(CultureInfo.InvariantCulture)} before it was ready:\n{recentErrors}";
        }
        else
        {
            error = cancellationToken.IsCancellationRequested
                ? "the pool stopped while the worker was starting"
                : $"the worker did not report ready within {app.Pool.StartTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s:\n{recentErrors}";
        }

        if (cancellationToken.IsCancellationRequested)
        {
            LogStartCancelled(app.Name, worker.Id, pid);
        }
        else
        {
            LogStartFailed(app.Name, worker.Id, pid, error);
        }

        worker.StopRequested = true;
        worker.TryMove(WorkerState.Stopping);
        ProcessSignals.SignalGroup(pid, ProcessSignals.SIGKILL);
        await worker.Exited;
        return WorkerStartResult.Failure(error.TrimEnd());
    }

    public void Signal(Worker worker, int signal, bool wholeGroup = true)
    {
        if (worker.Pid <= 1)
        {
            return;
        }

        _ = wholeGroup ? ProcessSignals.SignalGroup(worker.Pid, signal) : ProcessSignals.SignalProcess(worker.Pid, signal);
    }

    public bool IsRunning(Worker worker) => !worker.Exited.IsCompleted && ProcessSignals.IsAlive(worker.Pid);

    private static async Task<WorkerExit> WatchExitAsync(Worker worker, CommandTask<CommandResult> execution, Task<NotifyMessage> notified)
    {
        int exitCode;
        try
        {
            exitCode = (await execution).ExitCode;
        }
        catch (Exception)
        {
            exitCode = -1;
        }

        var startupError = notified.IsCompletedSuccessfully && notified.Result.Failed ? notified.Result.Error : null;
        worker.TryMove(WorkerState.Stopped);
        // The HTTP client is disposed by the pool once the worker is out of routing, not here: a request
        // that took a slot on this worker a moment ago must fail as "connection refused" (retried), not
        // on a disposed handler.
        TryDeleteSocket(worker.SocketPath);
        return new WorkerExit(exitCode, worker.StopRequested, startupError);
    }

    private Dictionary<string, string?> BuildEnvironment(Worker worker, AppDefinition app, RuntimeDefinition runtime)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            var key = (string)entry.Key;
            if (Array.IndexOf(ScrubbedVariables, key) >= 0)
            {
                environment[key] = null;
            }
        }

        foreach (var (key, value) in app.Environment)
        {
            environment[key] = value;
        }

        environment["PYTHONPATH"] = runtime.PythonPath.Count == 0 ? null : string.Join(':', runtime.PythonPath);
        environment["PYTHONUNBUFFERED"] = "1";
        environment["PYPE_APP_ROOT"] = app.Root;
        environment["PYPE_WSGI"] = app.Wsgi;
        environment["PYPE_SOCKET"] = worker.SocketPath;
        environment["PYPE_NOTIFY_SOCKET"] = notify.SocketPath;
        environment["PYPE_WORKER_ID"] = worker.Id;
        environment["PYPE_APP"] = app.Name;
        environment["PYPE_RUNTIME"] = runtime.Id;
        environment["PYPE_SCRIPT_NAME"] = app.Route.PathPrefix;
        environment["PYPE_THREADS"] = app.Pool.Threads.ToString(CultureInfo.InvariantCulture);
        environment["PYPE_ENVIRONMENT"] = settings.Environment;
        return environment;
    }

    private static void TryDeleteSocket(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [LoggerMessage(EventId = LogEvents.WorkerOutput, Level = LogLevel.Information, Message = "{App} {WorkerId} [{Pid}] {Line}")]
    private partial void LogWorkerOutput(string app, string workerId, int pid, string line);

    [LoggerMessage(EventId = LogEvents.WorkerErrorOutput, Level = LogLevel.Warning, Message = "{App} {WorkerId} [{Pid}] {Line}")]
    private partial void LogWorkerErrorOutput(string app, string workerId, int pid, string line);

    [LoggerMessage(EventId = LogEvents.WorkerSpawned, Level = LogLevel.Debug, Message = "Spawned worker {WorkerId} of {App} as pid {Pid} on platform version {Runtime}")]
    private partial void LogSpawned(string app, string workerId, int pid, string runtime);

    [LoggerMessage(EventId = LogEvents.WorkerReady, Level = LogLevel.Information, Message = "Worker {WorkerId} of {App} (pid {Pid}) is ready after {StartMilliseconds:0} ms")]
    private partial void LogReady(string app, string workerId, int pid, double startMilliseconds);

    [LoggerMessage(EventId = LogEvents.WorkerStartCancelled, Level = LogLevel.Debug, Message = "Worker {WorkerId} of {App} (pid {Pid}) was stopped while starting")]
    private partial void LogStartCancelled(string app, string workerId, int pid);

    [LoggerMessage(EventId = LogEvents.WorkerStartFailed, Level = LogLevel.Error, Message = "Worker {WorkerId} of {App} (pid {Pid}) failed to start:\n{Error}")]
    private partial void LogStartFailed(string app, string workerId, int pid, string error);
}
