using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>Messages to a pool's control loop, which alone changes the pool's worker set.</summary>
internal abstract record PoolSignal
{
    public sealed record Tick : PoolSignal;

    public sealed record ScaleUp : PoolSignal;

    public sealed record Started(Worker Worker, WorkerStartResult Result) : PoolSignal;

    public sealed record Exited(Worker Worker, WorkerExit Exit) : PoolSignal;

    public sealed record Recycle(Worker Worker, string Reason) : PoolSignal;

    public sealed record Unreachable(Worker Worker) : PoolSignal;

    public sealed record Stop : PoolSignal;
}
