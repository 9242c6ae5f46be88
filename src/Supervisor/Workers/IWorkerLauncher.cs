using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Runtimes;

namespace PyPE.Supervisor.Workers;

/// <summary>The seam between a pool and real processes; tests put a fake here.</summary>
public interface IWorkerLauncher
{
    /// <summary>Starts <paramref name="worker"/>'s process and waits until it is ready or has failed.</summary>
    Task<WorkerStartResult> StartAsync(Worker worker, AppDefinition app, RuntimeDefinition runtime, CancellationToken cancellationToken);

    /// <summary>Sends a signal (<see cref="Processes.ProcessSignals"/>) to the worker's process group, or to the worker alone.</summary>
    void Signal(Worker worker, int signal, bool wholeGroup = true);

    /// <summary>True while the worker's process exists (its exit may not have been observed yet).</summary>
    bool IsRunning(Worker worker);
}
