namespace PyPE.Supervisor.Pools;

/// <summary>Why a request got no worker slot.</summary>
public enum AcquireFailure
{
    None,

    /// <summary>The bounded queue was full (503 + Retry-After).</summary>
    QueueFull,

    /// <summary>Waited longer than the queue timeout (503 + Retry-After).</summary>
    QueueTimeout,

    /// <summary>The app cannot start its workers (crash-loop breaker open; 503).</summary>
    AppFailed,

    /// <summary>The pool is stopping (host shutdown or app removed; 503).</summary>
    Stopping,

    /// <summary>The client went away while waiting.</summary>
    ClientGone,
}
