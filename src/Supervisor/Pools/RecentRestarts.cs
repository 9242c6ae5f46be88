using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>The last <see cref="Capacity"/> worker replacements of a pool, for the status page.</summary>
internal sealed class RecentRestarts(TimeProvider time)
{
    public const int Capacity = 20;

    private readonly Queue<RestartRecord> _records = new(Capacity);

    public void Add(Worker worker, string reason, string? detail)
    {
        lock (_records)
        {
            if (_records.Count == Capacity)
            {
                _records.Dequeue();
            }

            _records.Enqueue(new RestartRecord(time.GetUtcNow(), worker.Id, worker.Pid, reason, detail));
        }
    }

    public IReadOnlyList<RestartRecord> Snapshot()
    {
        lock (_records)
        {
            return [.. _records];
        }
    }
}
