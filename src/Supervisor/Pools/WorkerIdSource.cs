namespace PyPE.Supervisor.Pools;

/// <summary>Host-wide numbering of workers, so ids and socket names never repeat, even across app reloads.</summary>
public sealed class WorkerIdSource
{
    private int _next;

    public int Next() => Interlocked.Increment(ref _next);
}
