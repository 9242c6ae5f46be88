using System.Globalization;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>
/// A request handed to a worker ahead of time (<c>pool.prefetch</c>): every thread of every worker was busy, so it
/// waits in the worker's socket instead of the host's queue, and the worker starts it the moment it finishes the one
/// in hand, without waiting for the host to send the next. Who runs it is settled in the worker's
/// <see cref="TicketTable"/>: the worker marks the ticket started before it runs the request, the host marks it taken
/// back to give the request to a worker that became free first; one lock-guarded slot, so exactly one of them
/// succeeds — a request taken back never runs on the first worker, and one the worker took is never sent twice.
/// </summary>
public sealed class PrefetchTicket
{
    private readonly Lock _lock = new();
    private readonly WorkerDispatcher _owner;
    private readonly TicketTable _table;
    private volatile TicketState _state;
    private CancellationTokenSource? _exchange;
    private ITimer? _deadline;

    internal PrefetchTicket(WorkerDispatcher owner, Worker worker, TicketTable table, int slot, long number)
    {
        _owner = owner;
        _table = table;
        Worker = worker;
        Slot = slot;
        Number = number;
        HeaderValue = string.Create(CultureInfo.InvariantCulture, $"{slot}:{number}");
    }

    private enum TicketState
    {
        /// <summary>Handed out with the slot; not in the table yet.</summary>
        New,

        /// <summary>In the table: the request may be on its way to the worker.</summary>
        Issued,

        /// <summary>Attached to its connection (about to go out, or out): the dispatcher may take it back from here on.</summary>
        Armed,

        /// <summary>The worker took it (or it could not be issued): it runs there.</summary>
        Settled,

        /// <summary>The host marked it first: the worker will never run it.</summary>
        TakenBack,
    }

    /// <summary>The worker the request was handed to.</summary>
    public Worker Worker { get; }

    /// <summary>The ticket's slot in the worker's <see cref="TicketTable"/>.</summary>
    public int Slot { get; }

    /// <summary>The ticket's number, unique within the pool: a reused slot never passes for an earlier ticket.</summary>
    public long Number { get; }

    /// <summary>What the request carries in <c>X-PyPE-Ticket</c>: <c>&lt;slot&gt;:&lt;number&gt;</c>.</summary>
    public string HeaderValue { get; }

    /// <summary>The worker whose free thread was held for the request when the dispatcher took it back; null otherwise.</summary>
    public Worker? MovedTo { get; private set; }

    public bool IsTakenBack => _state == TicketState.TakenBack;

    /// <summary>Taken back because it waited for its worker longer than the queue timeout: it gets the queue's 503.</summary>
    public bool Expired { get; private set; }

    internal bool IsArmed => _state == TicketState.Armed;

    /// <summary>
    /// Writes the ticket into the table, before the request is sent. False when it was taken back already (its queue
    /// deadline passed first: <see cref="IsTakenBack"/>; the request must not be sent), or when the table cannot take
    /// it (the worker exited): the request then goes out without a ticket and simply runs there, if anywhere.
    /// </summary>
    public bool TryIssue()
    {
        lock (_lock)
        {
            if (_state != TicketState.New)
            {
                return false;
            }

            var issued = _table.TryIssue(Slot, Number);
            _state = issued ? TicketState.Issued : TicketState.Settled;
            if (!issued)
            {
                return false;
            }
        }

        _owner.CountPrefetched();
        return true;
    }

    /// <summary>
    /// The request is about to go out on the connection whose I/O <paramref name="exchange"/> cancels: from now on
    /// the dispatcher may take it back, and then cancels the exchange so the hop stops sending, or stops waiting for
    /// an answer that will not come. Taken back already (its deadline), the exchange is cancelled at once.
    /// </summary>
    public void Attach(CancellationTokenSource exchange)
    {
        bool takenBack;
        lock (_lock)
        {
            takenBack = _state == TicketState.TakenBack;
            if (_state is TicketState.Issued or TicketState.Armed)
            {
                _exchange = exchange;
                _state = TicketState.Armed;
            }
            else if (!takenBack)
            {
                return;
            }
        }

        if (takenBack)
        {
            exchange.Cancel();
            return;
        }

        // A thread may have freed while the request was on its way here.
        _owner.OnArmed();
    }

    /// <summary>
    /// Takes the request back if the worker has not started it. True when this call won: the worker will not run the
    /// request (it drops it when it gets to it), and <paramref name="movedTo"/>, when given, holds a slot for it.
    /// False when the worker took it first (or it was never issued), or it was taken back already
    /// (<see cref="IsTakenBack"/>, by whoever did it, with their <see cref="MovedTo"/>).
    /// </summary>
    public bool TryTakeBack(Worker? movedTo) => TryTakeBack(movedTo, expiring: false);

    /// <summary>Takes the request back, as the queue would, if the worker has not started it within <paramref name="dueIn"/>.</summary>
    internal void ExpireAfter(TimeSpan dueIn, TimeProvider time) =>
        _deadline = time.CreateTimer(static state => ((PrefetchTicket)state!).TryTakeBack(null, expiring: true), this, dueIn, Timeout.InfiniteTimeSpan);

    /// <summary>The request's hop is over: its deadline no longer matters.</summary>
    internal void StopDeadline() => _deadline?.Dispose();

    /// <summary>
    /// The request's hop on its worker is over (<see cref="WorkerDispatcher.Release"/>): whatever it did, nobody may
    /// take it back now — a take-back that was on its way gives its held thread back instead of moving a request
    /// that has ended.
    /// </summary>
    internal void Close()
    {
        lock (_lock)
        {
            if (_state != TicketState.TakenBack)
            {
                _state = TicketState.Settled;
            }
        }
    }

    private bool TryTakeBack(Worker? movedTo, bool expiring)
    {
        CancellationTokenSource? exchange;
        bool issued;
        lock (_lock)
        {
            if (_state is TicketState.Settled or TicketState.TakenBack)
            {
                return false;
            }

            // New: never issued, so the request never left. Otherwise the table decides; a table that is gone (the
            // worker exited) decides nothing, and the request keeps the usual rules for a worker that died.
            if (_state is not TicketState.New && !_table.TryTakeBack(Slot, Number))
            {
                _state = TicketState.Settled;
                return false;
            }

            MovedTo = movedTo;
            Expired = expiring;
            issued = _state is not TicketState.New;
            _state = TicketState.TakenBack;
            exchange = _exchange;
        }

        if (issued)
        {
            // Counted with the requests handed ahead (counted at issue), so the one never exceeds the other.
            _owner.CountTakenBack();
        }

        try
        {
            exchange?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The hop already ended.
        }

        return true;
    }
}
