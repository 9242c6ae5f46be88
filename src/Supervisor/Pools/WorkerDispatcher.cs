using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>
/// Hands out worker slots for one app: never more requests to a worker than its thread count plus its prefetch,
/// least busy worker first (the first routable one among equals, so a prefetch slot is used only when every thread
/// is busy), and a bounded FIFO queue with a timeout when every slot is taken. A free slot goes straight to the
/// longest waiter; a free thread with nobody waiting takes back a request handed ahead to another worker
/// (<see cref="PrefetchTicket"/>). The fast path (a free thread) completes synchronously and allocates nothing.
/// </summary>
public sealed class WorkerDispatcher
{
    private readonly Lock _lock = new();
    private readonly Queue<SlotWaiter> _waiters = new();
    private readonly List<PrefetchTicket> _tickets = [];
    private readonly TimeProvider _time;
    private Worker[] _routable = [];
    private int _queued;
    private int _overflowed;
    private long _ticketNumbers;
    private long _prefetched;
    private long _takenBack;
    private AcquireFailure _closedWith = AcquireFailure.None;

    public WorkerDispatcher(int maxQueue, TimeSpan queueTimeout, TimeProvider time)
    {
        MaxQueue = maxQueue;
        QueueTimeout = queueTimeout;
        _time = time;
    }

    public int MaxQueue { get; }

    public TimeSpan QueueTimeout { get; }

    /// <summary>Requests waiting for a slot now.</summary>
    public int QueueLength => Volatile.Read(ref _queued);

    /// <summary>Called (outside the lock) when a request had to queue: the pool may start another worker.</summary>
    public Action? QueuePressure { get; set; }

    /// <summary>Called (outside the lock) when a worker reached its request limit and should be recycled.</summary>
    public Action<Worker>? RecycleDue { get; set; }

    /// <summary>Requests refused with a full queue and not yet acted on (<see cref="ClearOverflow"/>): demand the queue could not show.</summary>
    public int Overflowed => Volatile.Read(ref _overflowed);

    /// <summary>
    /// Forgets the <paramref name="actedOn"/> refused requests the pool has acted on (started workers for): a
    /// request refused while it decided stays counted, so its own wake-up still finds it (zeroing lost it).
    /// </summary>
    public void ClearOverflow(int actedOn) => Interlocked.Add(ref _overflowed, -actedOn);

    /// <summary>Requests handed ahead to a busy worker so far: tickets written into a worker's table (<see cref="PrefetchTicket"/>).</summary>
    public long Prefetched => Interlocked.Read(ref _prefetched);

    /// <summary>Requests handed ahead that the host took back before their worker started them.</summary>
    public long TakenBack => Interlocked.Read(ref _takenBack);

    internal void CountTakenBack() => Interlocked.Increment(ref _takenBack);

    internal void CountPrefetched() => Interlocked.Increment(ref _prefetched);

    /// <summary>How long the longest waiter has been in the queue; zero when nobody waits.</summary>
    public TimeSpan LongestWait()
    {
        lock (_lock)
        {
            foreach (var waiter in _waiters)
            {
                if (!waiter.IsClaimed)
                {
                    return _time.GetElapsedTime(waiter.QueuedAt);
                }
            }

            return TimeSpan.Zero;
        }
    }

    /// <summary>Workers currently routable.</summary>
    public IReadOnlyList<Worker> Routable => Volatile.Read(ref _routable);

    /// <summary>Set while this thread runs a request a freed slot was handed to (see <see cref="Release"/>).</summary>
    [ThreadStatic]
    private static bool t_handingOff;

    /// <summary>Takes a slot on the least busy worker, waiting in the queue when none is free.</summary>
    public ValueTask<AcquireResult> AcquireAsync(CancellationToken requestAborted)
    {
        SlotWaiter? waiter = null;
        var queueFull = false;
        lock (_lock)
        {
            if (_closedWith != AcquireFailure.None)
            {
                return new(AcquireResult.Fail(_closedWith));
            }

            if (_queued == 0 && TryTakeSlot() is { } slot)
            {
                return new(slot);
            }

            if (_queued >= MaxQueue)
            {
                // Still a sign of demand (with maxQueue 0 the only one): let the pool start a worker if it may.
                queueFull = true;
                Interlocked.Increment(ref _overflowed); // cleared outside the lock (ClearOverflow)
            }
            else
            {
                waiter = new SlotWaiter(this, _time.GetTimestamp());
                _waiters.Enqueue(waiter);
                _queued++;
            }
        }

        QueuePressure?.Invoke();
        return queueFull
            ? new(AcquireResult.Fail(AcquireFailure.QueueFull))
            : new(waiter!.WaitAsync(QueueTimeout, _time, requestAborted));
    }

    /// <summary>
    /// Returns the slot taken by a successful <see cref="AcquireAsync"/>. A request waiting for it runs on this
    /// thread (after the lock is released) until it next waits — for its worker's answer — instead of being
    /// handed to the thread pool: at saturation, when every request queues, that hand-off was a thread woken per
    /// request (BENCHMARKS.md, "The freed slot handed over on the releasing thread"). Only one level deep per
    /// thread (across dispatchers): a release made by the request it runs hands its slot to the thread pool. The
    /// waiter runs here because the host has no synchronization context; under one, it would be posted there.
    /// </summary>
    /// <param name="worker">The slot's worker.</param>
    /// <param name="ticket">The slot's ticket, when it handed the request ahead.</param>
    /// <param name="served">False when the worker did not run the request (it was taken back): not counted as served.</param>
    public void Release(Worker worker, PrefetchTicket? ticket = null, bool served = true)
    {
        var recycle = false;
        SlotWaiter? handOff = null;
        AcquireResult handOffSlot = default;
        PrefetchTicket? takeBack = null;
        ticket?.Close();
        lock (_lock)
        {
            worker.InFlight--;
            if (ticket is not null)
            {
                _tickets.Remove(ticket);
                ticket.StopDeadline();
                worker.Tickets?.Free(ticket.Slot);
            }

            if (served)
            {
                worker.RequestsServed++;
                worker.LastActiveTimestamp = _time.GetTimestamp();
                if (worker.RecycleAfterRequests > 0 && worker.RequestsServed >= worker.RecycleAfterRequests && worker.RecycleReason is null)
                {
                    worker.RecycleReason = RecycleReasons.MaxRequests;
                    recycle = true;
                }
            }

            if (IsRoutable(worker))
            {
                while (worker.InFlight < worker.SlotLimit && TryDequeueWaiter() is { } next)
                {
                    var slot = Grant(worker);
                    if (handOff is null && !t_handingOff)
                    {
                        handOff = next;
                        handOffSlot = slot;
                    }
                    else
                    {
                        next.Complete(slot);
                    }
                }

                takeBack = TakeBackFor(worker);
            }
            else if (worker.InFlight == 0)
            {
                worker.Drained.TrySetResult();
            }
        }

        if (recycle)
        {
            RecycleDue?.Invoke(worker);
        }

        if (takeBack is not null)
        {
            CompleteTakeBack(takeBack, worker);
        }

        if (handOff is not null)
        {
            t_handingOff = true;
            try
            {
                handOff.CompleteInline(handOffSlot);
            }
            finally
            {
                t_handingOff = false;
            }
        }
    }

    /// <summary>
    /// Starts the queue timeout of a request handed ahead (<paramref name="ticket"/>), less what it already waited in
    /// the host's queue: if its worker has not started it by then, it is taken back and answered as the queue would.
    /// </summary>
    public void StartQueueDeadline(PrefetchTicket ticket, TimeSpan waited) =>
        ticket.ExpireAfter(waited < QueueTimeout ? QueueTimeout - waited : TimeSpan.Zero, _time);

    /// <summary>Makes a ready worker routable and gives it to waiting requests.</summary>
    public void Add(Worker worker)
    {
        List<PrefetchTicket>? takeBacks = null;
        lock (_lock)
        {
            if (Array.IndexOf(_routable, worker) >= 0)
            {
                return;
            }

            Volatile.Write(ref _routable, [.. _routable, worker]);
            while (worker.InFlight < worker.SlotLimit && TryDequeueWaiter() is { } next)
            {
                next.Complete(Grant(worker));
            }

            // Every idle thread of the new worker takes back a request waiting at a busy one (a recycled worker's
            // replacement, a pool that grew).
            while (TakeBackFor(worker) is { } takeBack)
            {
                (takeBacks ??= []).Add(takeBack);
            }
        }

        foreach (var takeBack in takeBacks ?? [])
        {
            CompleteTakeBack(takeBack, worker);
        }
    }

    /// <summary>Stops routing to <paramref name="worker"/>; its <see cref="Worker.Drained"/> completes when its last request ends.</summary>
    public void Remove(Worker worker)
    {
        lock (_lock)
        {
            var index = Array.IndexOf(_routable, worker);
            if (index >= 0)
            {
                var copy = new Worker[_routable.Length - 1];
                Array.Copy(_routable, 0, copy, 0, index);
                Array.Copy(_routable, index + 1, copy, index, _routable.Length - index - 1);
                Volatile.Write(ref _routable, copy);
            }

            if (worker.InFlight == 0)
            {
                worker.Drained.TrySetResult();
            }
        }
    }

    /// <summary>Rejects waiting and new requests with <paramref name="reason"/> until <see cref="Reopen"/>.</summary>
    public void Close(AcquireFailure reason)
    {
        lock (_lock)
        {
            _closedWith = reason;
            while (TryDequeueWaiter() is { } waiter)
            {
                waiter.Complete(AcquireResult.Fail(reason));
            }
        }
    }

    public void Reopen()
    {
        lock (_lock)
        {
            _closedWith = AcquireFailure.None;
        }
    }

    private AcquireResult? TryTakeSlot()
    {
        var workers = _routable;
        if (workers.Length == 0)
        {
            return null;
        }

        // Least busy wins; among equals a worker not due for recycling, then the first routable one (the longest-
        // serving). At light load one worker takes every request, so the others go idle and the pool can retire them
        // after its idle timeout (rotating among equals spread even light traffic over every worker, so none stayed
        // idle long enough to be retired), and the workers reach a request limit one at a time instead of all
        // together. A worker due for recycling (request limit, memory) serves until its replacement is ready, but
        // only when the others are busier. Measured one request at a time, rotating cost nothing more or less
        // (BENCHMARKS.md, "Idle workers: the first one first").
        Worker? best = null;
        for (var i = 0; i < workers.Length; i++)
        {
            var candidate = workers[i];
            if (candidate.InFlight < candidate.SlotLimit && (best is null || IsBetter(candidate, best)))
            {
                best = candidate;
                if (candidate.InFlight == 0 && candidate.RecycleReason is null)
                {
                    break;
                }
            }
        }

        return best is null ? null : Grant(best);
    }

    /// <summary>Takes a slot on <paramref name="worker"/> (under the lock); beyond its threads the request gets a ticket.</summary>
    private AcquireResult Grant(Worker worker)
    {
        worker.InFlight++;
        if (worker.InFlight <= worker.Capacity || worker.Tickets is not { } table || table.TryAllocate() is not (>= 0 and var slot))
        {
            return new(worker, AcquireFailure.None);
        }

        var ticket = new PrefetchTicket(this, worker, table, slot, ++_ticketNumbers);
        _tickets.Add(ticket);
        return new(worker, AcquireFailure.None, ticket);
    }

    /// <summary>
    /// With nobody waiting and a thread of <paramref name="free"/> idle, the oldest request handed ahead to another
    /// worker (and already there) is taken back for it: the thread is held for it here (under the lock), and
    /// <see cref="CompleteTakeBack"/> settles it outside.
    /// </summary>
    private PrefetchTicket? TakeBackFor(Worker free)
    {
        if (free.InFlight >= free.Capacity || _tickets.Count == 0)
        {
            return null;
        }

        for (var i = 0; i < _tickets.Count; i++)
        {
            var ticket = _tickets[i];
            if (ticket.Worker != free && ticket.IsArmed)
            {
                _tickets.RemoveAt(i);
                free.InFlight++;
                return ticket;
            }
        }

        return null;
    }

    /// <summary>
    /// A request handed ahead has just become takeable (<see cref="PrefetchTicket.Attach"/>). A thread that freed
    /// between its slot's grant and now found nothing to take back then (it was not armed yet) and went idle; without
    /// this look, the request would wait for its busy worker (or its queue deadline) beside an idle thread.
    /// </summary>
    internal void OnArmed()
    {
        PrefetchTicket? takeBack = null;
        Worker? free = null;
        lock (_lock)
        {
            var workers = _routable;
            for (var i = 0; i < workers.Length && takeBack is null; i++)
            {
                free = workers[i];
                takeBack = TakeBackFor(free);
            }
        }

        if (takeBack is not null)
        {
            CompleteTakeBack(takeBack, free!);
        }
    }

    /// <summary>
    /// Marks the ticket taken back: the request then moves to <paramref name="free"/> (its hop is woken to go there);
    /// when the first worker already started it, the held thread is given back (and may take back another).
    /// </summary>
    private void CompleteTakeBack(PrefetchTicket ticket, Worker free)
    {
        if (!ticket.TryTakeBack(free))
        {
            Release(free, served: false);
        }
    }

    private SlotWaiter? TryDequeueWaiter()
    {
        while (_waiters.TryDequeue(out var waiter))
        {
            if (waiter.TryClaim())
            {
                _queued--;
                return waiter;
            }
        }

        return null;
    }

    /// <summary>Fewer requests in hand, or as many and not due for recycling while <paramref name="best"/> is.</summary>
    private static bool IsBetter(Worker candidate, Worker best) =>
        candidate.InFlight < best.InFlight
        || (candidate.InFlight == best.InFlight && candidate.RecycleReason is null && best.RecycleReason is not null);

    private bool IsRoutable(Worker worker) => Array.IndexOf(_routable, worker) >= 0;

    /// <summary>Called by a waiter that timed out or whose client left: it leaves the count (lazily the queue).</summary>
    internal bool TryAbandon(SlotWaiter waiter)
    {
        lock (_lock)
        {
            if (!waiter.TryClaim())
            {
                return false;
            }

            _queued--;
            // Abandoned waiters leave the queue lazily, at the next dequeue; if no slot frees up for a long
            // time (every worker hung), drop them now so the queue does not grow with timed-out requests.
            if (_waiters.Count > 64 && _waiters.Count > (4 * _queued) + 16)
            {
                var live = _waiters.Where(w => !w.IsClaimed).ToList();
                _waiters.Clear();
                foreach (var w in live)
                {
                    _waiters.Enqueue(w);
                }
            }

            return true;
        }
    }
}
