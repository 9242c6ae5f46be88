namespace PyPE.Supervisor.Pools;

/// <summary>Monotonic counts of a pool's worker events; read by metrics at scrape time.</summary>
public sealed class PoolCounters
{
    private long _spawns;
    private long _crash;
    private long _startFailure;
    private long _maxRequests;
    private long _memory;
    private long _requestTimeout;
    private long _idleRetired;

    public long Spawns => Interlocked.Read(ref _spawns);

    public long IdleRetired => Interlocked.Read(ref _idleRetired);

    internal void CountSpawn() => Interlocked.Increment(ref _spawns);

    internal void CountIdleRetired() => Interlocked.Increment(ref _idleRetired);

    /// <summary>Worker restarts and replacements by <see cref="RecycleReasons"/> value.</summary>
    public long Restarts(string reason) => reason switch
    {
        RecycleReasons.Crash => Interlocked.Read(ref _crash),
        RecycleReasons.StartFailure => Interlocked.Read(ref _startFailure),
        RecycleReasons.MaxRequests => Interlocked.Read(ref _maxRequests),
        RecycleReasons.Memory => Interlocked.Read(ref _memory),
        RecycleReasons.RequestTimeout => Interlocked.Read(ref _requestTimeout),
        RecycleReasons.Idle => Interlocked.Read(ref _idleRetired),
        _ => 0,
    };

    internal void CountRestart(string reason)
    {
        switch (reason)
        {
            case RecycleReasons.Crash: Interlocked.Increment(ref _crash); break;
            case RecycleReasons.StartFailure: Interlocked.Increment(ref _startFailure); break;
            case RecycleReasons.MaxRequests: Interlocked.Increment(ref _maxRequests); break;
            case RecycleReasons.Memory: Interlocked.Increment(ref _memory); break;
            case RecycleReasons.RequestTimeout: Interlocked.Increment(ref _requestTimeout); break;
        }
    }
}
