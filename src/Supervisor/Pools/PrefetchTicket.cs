using System.Globalization;
using System.Runtime.InteropServices;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Pools;

/// <summary>
/// A request handed to a worker ahead of time (<c>pool.prefetch</c>): every thread of every worker was busy, so it
/// waits in the worker's socket instead of the host's queue, and the worker starts it the moment it finishes the one
/// in hand, without waiting for the host to send the next. Who runs it is settled by a file, <c>&lt;socket&gt;.t&lt;n&gt;</c>,
/// created before the request is sent: the worker removes it before it starts the request, and the host removes it
/// to take the request back for a worker that became free first. <c>unlink(2)</c> is atomic, so exactly one of them
/// succeeds: a request taken back never runs on the first worker, and one the worker took is never sent twice.
/// </summary>
public sealed partial class PrefetchTicket
{
    private readonly Lock _lock = new();
    private volatile TicketState _state;
    private CancellationTokenSource? _exchange;
    private ITimer? _deadline;

    private readonly WorkerDispatcher _owner;

    internal PrefetchTicket(WorkerDispatcher owner, Worker worker, long number)
    {
        _owner = owner;
        Worker = worker;
        Number = number;
        FilePath = string.Create(CultureInfo.InvariantCulture, $"{worker.SocketPath}.t{number}");
    }

    private enum TicketState
    {
        /// <summary>Handed out with the slot; no file yet.</summary>
        New,

        /// <summary>The file exists: the request may be on its way to the worker.</summary>
        Issued,

        /// <summary>The request reached the worker's socket; the dispatcher may take it back from here on.</summary>
        Armed,

        /// <summary>The worker took it (or no file could be made): it runs there.</summary>
        Settled,

        /// <summary>The host removed the file first: the worker will never run it.</summary>
        TakenBack,
    }

    /// <summary>The worker the request was handed to.</summary>
    public Worker Worker { get; }

    /// <summary>The number the request carries (header <c>X-PyPE-Ticket</c>).</summary>
    public long Number { get; }

    /// <summary>The file whose removal settles who runs the request.</summary>
    public string FilePath { get; }

    /// <summary>The worker whose free thread was held for the request when the dispatcher took it back; null otherwise.</summary>
    public Worker? MovedTo { get; private set; }

    public bool IsTakenBack => _state == TicketState.TakenBack;

    /// <summary>Taken back because it waited for its worker longer than the queue timeout: it gets the queue's 503.</summary>
    public bool Expired { get; private set; }

    internal bool IsArmed => _state == TicketState.Armed;

    /// <summary>
    /// Creates the file, before the request is sent. False when it cannot be made (the runtime directory is gone or
    /// full): the request then goes out without a ticket and simply runs on this worker.
    /// </summary>
    public bool TryIssue()
    {
        try
        {
            File.OpenHandle(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete).Dispose();
        }
        catch (IOException)
        {
            return Settle();
        }
        catch (UnauthorizedAccessException)
        {
            return Settle();
        }

        lock (_lock)
        {
            if (_state == TicketState.New)
            {
                _state = TicketState.Issued;
            }
        }

        return true;

        bool Settle()
        {
            lock (_lock)
            {
                _state = TicketState.Settled;
            }

            return false;
        }
    }

    /// <summary>
    /// The request is in the worker's socket: from now on the dispatcher may take it back, and then cancels
    /// <paramref name="exchange"/> so the hop stops waiting for an answer that will not come.
    /// </summary>
    public void Arm(CancellationTokenSource exchange)
    {
        lock (_lock)
        {
            if (_state != TicketState.Issued)
            {
                return;
            }

            _exchange = exchange;
            _state = TicketState.Armed;
        }
    }

    /// <summary>
    /// Takes the request back if the worker has not started it. True when this call removed the file: the worker
    /// will not run the request (it drops it when it gets to it), and <paramref name="movedTo"/>, when given, holds a
    /// slot for it. False when the worker took it first (or it never had a file), or it was taken back already
    /// (<see cref="IsTakenBack"/>, by whoever did it, with their <see cref="MovedTo"/>).
    /// </summary>
    public bool TryTakeBack(Worker? movedTo) => TryTakeBack(movedTo, expiring: false);

    /// <summary>Takes the request back, as the queue would, if the worker has not started it within <paramref name="dueIn"/>.</summary>
    internal void ExpireAfter(TimeSpan dueIn, TimeProvider time) =>
        _deadline = time.CreateTimer(static state => ((PrefetchTicket)state!).TryTakeBack(null, expiring: true), this, dueIn, Timeout.InfiniteTimeSpan);

    /// <summary>The request's hop is over: its deadline no longer matters.</summary>
    internal void StopDeadline() => _deadline?.Dispose();

    private bool TryTakeBack(Worker? movedTo, bool expiring)
    {
        CancellationTokenSource? exchange;
        lock (_lock)
        {
            if (_state is TicketState.Settled or TicketState.TakenBack)
            {
                return false;
            }

            // New: no file was made and the request never left. Any failure to remove the file leaves the request to
            // the worker: it was there first (ENOENT), or it fails the same way and then serves (the shim's rule).
            if (_state is not TicketState.New && Unlink(FilePath) != 0)
            {
                _state = TicketState.Settled;
                return false;
            }

            MovedTo = movedTo;
            Expired = expiring;
            _state = TicketState.TakenBack;
            exchange = _exchange;
        }

        _owner.CountTakenBack();
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

    [LibraryImport("libc", EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Unlink(string path);
}
