using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>A worker slot, or why there is none.</summary>
public readonly record struct AcquireResult(Worker? Worker, AcquireFailure Failure)
{
    public static AcquireResult Fail(AcquireFailure failure) => new(null, failure);
}
