namespace PyPE.Supervisor.Pools;

/// <summary>Why a worker was replaced; also the <c>reason</c> label of the restart metrics.</summary>
public static class RecycleReasons
{
    public const string Crash = "crash";
    public const string StartFailure = "start_failure";
    public const string MaxRequests = "max_requests";
    public const string Memory = "memory";
    public const string RequestTimeout = "request_timeout";
    public const string Idle = "idle";

    /// <summary>Every reason, as /status lists them.</summary>
    public static readonly string[] All = [Crash, StartFailure, MaxRequests, Memory, RequestTimeout, Idle];

    /// <summary>Replacements of workers that failed: <c>pype_worker_restarts_total</c>.</summary>
    public static readonly string[] Failures = [Crash, StartFailure, RequestTimeout];

    /// <summary>Planned replacements and retirements: <c>pype_worker_recycles_total</c>.</summary>
    public static readonly string[] Planned = [MaxRequests, Memory, Idle];
}
