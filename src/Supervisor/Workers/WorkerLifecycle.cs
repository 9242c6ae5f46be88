namespace PyPE.Supervisor.Workers;

/// <summary>The allowed transitions of <see cref="WorkerState"/> (Busy is derived from Ready, never stored).</summary>
internal static class WorkerLifecycle
{
    public static bool CanMove(WorkerState from, WorkerState to) => (from, to) switch
    {
        (WorkerState.Starting, WorkerState.Ready) => true,
        (WorkerState.Starting, WorkerState.Stopping) => true,
        (WorkerState.Ready, WorkerState.Draining) => true,
        (WorkerState.Draining, WorkerState.Stopping) => true,
        (not WorkerState.Stopped, WorkerState.Stopped) => true,
        _ => false,
    };
}
