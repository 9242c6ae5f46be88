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

    public static readonly string[] All = [Crash, StartFailure, MaxRequests, Memory, RequestTimeout];
}
