using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>A worker slot, or why there is none; <paramref name="Ticket"/> when the slot hands the request ahead to a busy worker.</summary>
public readonly record struct AcquireResult(Worker? Worker, AcquireFailure Failure, PrefetchTicket? Ticket = null)
{
    public static AcquireResult Fail(AcquireFailure failure) => new(null, failure);
}
