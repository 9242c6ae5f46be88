namespace PyPE.Supervisor.Pools;

/// <summary>An app pool's overall condition.</summary>
public enum PoolState
{
    /// <summary>No worker has been ready yet.</summary>
    Starting,

    /// <summary>Serving (or idle with zero minimum workers).</summary>
    Running,

    /// <summary>Crash-loop breaker open: requests get 503 until a trial start succeeds.</summary>
    Failed,

    Stopping,

    Stopped,
}
