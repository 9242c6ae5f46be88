namespace PyPE.Supervisor.Workers;

/// <summary>
/// A worker's life: <c>Starting → Ready ⇄ Busy → Draining → Stopping → Stopped</c>.
/// Busy is Ready with requests in hand; any state can end in Stopped when the process dies.
/// </summary>
public enum WorkerState
{
    /// <summary>Spawned; importing the app, not yet reported ready.</summary>
    Starting,

    /// <summary>Routable and idle.</summary>
    Ready,

    /// <summary>Routable with at least one request in hand.</summary>
    Busy,

    /// <summary>No longer routable; finishing the requests in hand.</summary>
    Draining,

    /// <summary>Sent SIGTERM; waiting for the process to exit (SIGKILL after the grace period).</summary>
    Stopping,

    /// <summary>The process has exited.</summary>
    Stopped,
}
