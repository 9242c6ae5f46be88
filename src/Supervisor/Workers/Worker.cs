namespace PyPE.Supervisor.Workers;

/// <summary>
/// One Python worker process of an app pool: identity, lifecycle state and counters.
/// Dispatch fields (<see cref="InFlight"/>, <see cref="RequestsServed"/>) are changed only under the pool
/// dispatcher's lock; lifecycle moves go through <see cref="TryMove"/>.
/// </summary>
public sealed class Worker
{
    private readonly Lock _stateLock = new();
    private WorkerState _state = WorkerState.Starting;

    internal Worker(string id, string appName, string socketPath, int capacity, long recycleAfterRequests, TimeProvider time, int prefetch = 0)
    {
        Id = id;
        AppName = appName;
        SocketPath = socketPath;
        Capacity = capacity;
        Prefetch = prefetch;
        RecycleAfterRequests = recycleAfterRequests;
        CreatedAt = time.GetUtcNow();
        LastActiveTimestamp = time.GetTimestamp();
    }

    /// <summary>Unique within the host: <c>&lt;app&gt;-&lt;n&gt;</c>.</summary>
    public string Id { get; }

    public string AppName { get; }

    /// <summary>The Unix socket the worker serves HTTP/1.1 on.</summary>
    public string SocketPath { get; }

    /// <summary>Requests the worker serves at once (its thread count).</summary>
    public int Capacity { get; }

    /// <summary>Requests handed to it ahead of time beyond <see cref="Capacity"/> while every thread is busy (<c>pool.prefetch</c>).</summary>
    public int Prefetch { get; }

    /// <summary>The most requests the host has out at this worker at once: its threads, and its prefetch when it has a ticket table.</summary>
    internal int SlotLimit => Tickets is null ? Capacity : Capacity + Prefetch;

    /// <summary>Where the tickets of requests handed ahead to it are settled; set when it is ready, if it has a prefetch.</summary>
    public TicketTable? Tickets { get; internal set; }

    /// <summary>Requests after which the worker is recycled (0 = never); includes this worker's jitter.</summary>
    public long RecycleAfterRequests { get; }

    public DateTimeOffset CreatedAt { get; }

    public DateTimeOffset? ReadyAt { get; internal set; }

    public int Pid { get; internal set; }

    /// <summary>Resident memory at the last sample, in bytes.</summary>
    public long MemoryBytes { get; internal set; }

    /// <summary>Requests the host has out at this worker: running, or handed ahead (<see cref="Prefetch"/>).</summary>
    public int InFlight { get; internal set; }

    public long RequestsServed { get; internal set; }

    /// <summary>Timestamp (<see cref="TimeProvider.GetTimestamp"/>) when the last request ended.</summary>
    public long LastActiveTimestamp { get; internal set; }

    /// <summary>Set once the pool decided to replace this worker, so it is not replaced twice.</summary>
    public string? RecycleReason { get; internal set; }

    /// <summary>The keep-alive connections to this worker's socket, set once it is ready.</summary>
    public WorkerConnectionPool? Connections { get; internal set; }

    /// <summary>Completes when the process has exited.</summary>
    internal Task<WorkerExit> Exited { get; set; } = Task.FromResult(new WorkerExit(0, true, null));

    /// <summary>Completes when a draining worker has no request in hand.</summary>
    internal TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal bool StopRequested { get; set; }

    public WorkerState State
    {
        get
        {
            var state = _state;
            return state == WorkerState.Ready && InFlight > 0 ? WorkerState.Busy : state;
        }
    }

    /// <summary>Moves the lifecycle to <paramref name="to"/> if that transition is allowed from the current state.</summary>
    internal bool TryMove(WorkerState to)
    {
        lock (_stateLock)
        {
            if (!WorkerLifecycle.CanMove(_state, to))
            {
                return false;
            }

            _state = to;
            return true;
        }
    }

    internal WorkerState LifecycleState => _state;

    public TimeSpan Uptime(TimeProvider time) => ReadyAt is { } ready ? time.GetUtcNow() - ready : TimeSpan.Zero;

    public override string ToString() => $"{Id} (pid {Pid}, {State})";
}
