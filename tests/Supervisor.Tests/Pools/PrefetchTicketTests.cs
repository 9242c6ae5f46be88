using Microsoft.Extensions.Time.Testing;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Tests.TestSupport;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Tests.Pools;

/// <summary>
/// The dispatcher's side of <c>pool.prefetch</c>: which requests are handed ahead, and taking one back for a worker
/// that became free. The ticket tables are real (files in a temp folder); the worker's side — marking a ticket started
/// before it runs the request — is played with <see cref="TicketTable.TryStart"/>, and checked against the real shim
/// in the host's tests.
/// </summary>
public sealed class PrefetchTicketTests : IDisposable
{
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private WorkerDispatcher Dispatcher() => new(10, QueueTimeout, _time);

    private Worker ReadyWorker(string id, int prefetch = 1, int threads = 1)
    {
        var worker = new Worker(id, "shop", _dir.Combine(id + ".sock"), threads, 0, _time, prefetch);
        if (prefetch > 0)
        {
            worker.Tickets = TicketTable.TryCreate(_dir.Combine(id + ".sock.tickets"));
        }

        Assert.True(worker.TryMove(WorkerState.Ready));
        return worker;
    }

    private static async Task<AcquireResult> TakeFreeAsync(WorkerDispatcher dispatcher)
    {
        var pending = dispatcher.AcquireAsync(CancellationToken.None).AsTask();
        Assert.True(pending.IsCompleted, "a slot is free: handed out synchronously");
        var result = await pending;
        Assert.Equal(AcquireFailure.None, result.Failure);
        return result;
    }

    /// <summary>One single-threaded worker, busy, and a second request handed ahead to it.</summary>
    private async Task<(WorkerDispatcher Dispatcher, Worker Worker, PrefetchTicket Ticket)> BusyAndOneAheadAsync()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);
        await TakeFreeAsync(dispatcher);
        return (dispatcher, worker, (await TakeFreeAsync(dispatcher)).Ticket!);
    }

    /// <summary>Two single-threaded workers, both busy, and a third request handed ahead to one of them.</summary>
    private async Task<(WorkerDispatcher Dispatcher, AcquireResult Ahead, Worker Other)> BothBusyAndOneAheadAsync()
    {
        var dispatcher = Dispatcher();
        var a = ReadyWorker("shop-1");
        var b = ReadyWorker("shop-2");
        dispatcher.Add(a);
        dispatcher.Add(b);
        await TakeFreeAsync(dispatcher);
        await TakeFreeAsync(dispatcher);
        var ahead = await TakeFreeAsync(dispatcher);
        return (dispatcher, ahead, ahead.Worker == a ? b : a);
    }

    /// <summary>What the hop does with a handed-ahead request: write the ticket into the table, attach the exchange, send.</summary>
    private static CancellationTokenSource SendAhead(PrefetchTicket ticket)
    {
        Assert.True(ticket.TryIssue());
        var exchange = new CancellationTokenSource();
        ticket.Attach(exchange);
        return exchange;
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_HandsARequestAhead_OnlyWhenEveryThreadIsBusy_ThenQueues()
    {
        var dispatcher = Dispatcher();
        var a = ReadyWorker("shop-1");
        var b = ReadyWorker("shop-2");
        dispatcher.Add(a);
        dispatcher.Add(b);

        var first = await TakeFreeAsync(dispatcher);
        var second = await TakeFreeAsync(dispatcher);
        Assert.Null(first.Ticket);
        Assert.Null(second.Ticket);
        Assert.NotSame(first.Worker, second.Worker);

        var third = await TakeFreeAsync(dispatcher);
        var fourth = await TakeFreeAsync(dispatcher);
        Assert.NotNull(third.Ticket);
        Assert.NotNull(fourth.Ticket);
        Assert.NotSame(third.Worker, fourth.Worker);
        Assert.Same(third.Worker, third.Ticket!.Worker);
        Assert.NotEqual(third.Ticket.Number, fourth.Ticket!.Number);
        Assert.Equal(0, dispatcher.Prefetched);
        Assert.True(third.Ticket.TryIssue());
        Assert.True(fourth.Ticket.TryIssue());
        Assert.Equal(2, dispatcher.Prefetched);

        Assert.False(dispatcher.AcquireAsync(CancellationToken.None).AsTask().IsCompleted, "every slot is taken: the fifth waits in the host's queue");
        Assert.Equal(1, dispatcher.QueueLength);
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_WithoutPrefetch_QueuesOnceEveryThreadIsBusy()
    {
        var dispatcher = Dispatcher();
        var a = ReadyWorker("shop-1", prefetch: 0);
        dispatcher.Add(a);

        Assert.Null((await TakeFreeAsync(dispatcher)).Ticket);
        Assert.False(dispatcher.AcquireAsync(CancellationToken.None).AsTask().IsCompleted);
        Assert.Equal(0, dispatcher.Prefetched);
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_WhenTheWorkerFinishes_ItsFreedSlotIsHandedAheadToTheNextWaiter()
    {
        var (dispatcher, a, ahead) = await BusyAndOneAheadAsync();
        var waiting = dispatcher.AcquireAsync(CancellationToken.None).AsTask();

        dispatcher.Release(a);

        // The request that was ahead is now the one running; the waiter goes ahead in its place.
        var next = await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(a, next.Worker);
        Assert.NotNull(next.Ticket);
        Assert.NotSame(ahead, next.Ticket);
        Assert.Equal(2, a.InFlight);
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_LeavingAThreadIdle_TakesBackTheRequestWaitingAtAnotherWorker_AndHoldsTheThreadForIt()
    {
        var (dispatcher, ahead, other) = await BothBusyAndOneAheadAsync();
        var ticket = ahead.Ticket!;
        using var exchange = SendAhead(ticket);

        dispatcher.Release(other);

        Assert.True(ticket.IsTakenBack);
        Assert.Same(other, ticket.MovedTo);
        Assert.False(ticket.Expired);
        Assert.True(exchange.IsCancellationRequested, "the hop stops waiting for an answer that will not come");
        Assert.False(ticket.Worker.Tickets!.TryStart(ticket.Slot, ticket.Number), "the worker finds the ticket taken back, so it drops the request");
        Assert.Equal(1, other.InFlight);
        Assert.Equal(1, dispatcher.TakenBack);
        Assert.Equal(1, other.RequestsServed);

        // The request leaves its first worker without counting as served there.
        dispatcher.Release(ahead.Worker!, ticket, served: false);
        Assert.Equal(1, ahead.Worker!.InFlight);
        Assert.Equal(0, ahead.Worker.RequestsServed);
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_WhenTheWorkerAlreadyStartedTheRequestAhead_GivesTheHeldThreadBack()
    {
        var (dispatcher, ahead, other) = await BothBusyAndOneAheadAsync();
        var ticket = ahead.Ticket!;
        using var exchange = SendAhead(ticket);
        Assert.True(ticket.Worker.Tickets!.TryStart(ticket.Slot, ticket.Number)); // the worker took it: it runs there

        dispatcher.Release(other);

        Assert.False(ticket.IsTakenBack);
        Assert.False(exchange.IsCancellationRequested);
        Assert.Equal(0, other.InFlight);
        Assert.Equal(0, dispatcher.TakenBack);
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_DoesNotTakeBack_ARequestNotYetSent()
    {
        var (dispatcher, ahead, other) = await BothBusyAndOneAheadAsync();
        Assert.True(ahead.Ticket!.TryIssue());

        dispatcher.Release(other);

        Assert.False(ahead.Ticket.IsTakenBack);
        Assert.True(ahead.Ticket.Worker.Tickets!.TryStart(ahead.Ticket.Slot, ahead.Ticket.Number), "still the worker's to start");
        Assert.Equal(0, other.InFlight);
    }

    [Fact(Timeout = 10_000)]
    public async Task Attach_AfterAThreadFreedSinceTheGrant_TakesTheRequestBackForThatThread()
    {
        var (dispatcher, ahead, other) = await BothBusyAndOneAheadAsync();
        var ticket = ahead.Ticket!;
        Assert.True(ticket.TryIssue());
        dispatcher.Release(other); // nothing armed to take back yet: the thread goes idle

        using var exchange = new CancellationTokenSource();
        ticket.Attach(exchange);

        Assert.True(ticket.IsTakenBack);
        Assert.Same(other, ticket.MovedTo);
        Assert.True(exchange.IsCancellationRequested, "the hop does not send it to the busy worker");
        Assert.Equal(1, other.InFlight);
        Assert.Equal(1, dispatcher.TakenBack);
    }

    [Fact(Timeout = 10_000)]
    public async Task Attach_WithEveryThreadBusy_LeavesTheRequestWithItsWorker()
    {
        var (dispatcher, ahead, _) = await BothBusyAndOneAheadAsync();

        using var exchange = SendAhead(ahead.Ticket!);

        Assert.False(ahead.Ticket!.IsTakenBack);
        Assert.False(exchange.IsCancellationRequested);
        Assert.Equal(0, dispatcher.TakenBack);
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_SettlesTheTicket_SoATakeBackArrivingAfterTheHopEndedFails()
    {
        var (dispatcher, ahead, other) = await BothBusyAndOneAheadAsync();
        var ticket = ahead.Ticket!;
        using var exchange = SendAhead(ticket);

        // Its hop ended (an error the worker never saw the request for) while a take-back for another worker's free
        // thread was on its way: that take-back must fail, or the thread it holds is never given back.
        dispatcher.Release(ahead.Worker!, ticket, served: false);

        Assert.False(ticket.TryTakeBack(other));
        Assert.False(ticket.IsTakenBack);
        Assert.Equal(0, dispatcher.TakenBack);
    }

    [Fact(Timeout = 10_000)]
    public async Task Add_ANewWorker_TakesBackARequestWaitingAtABusyOne()
    {
        var (dispatcher, a, ticket) = await BusyAndOneAheadAsync();
        using var exchange = SendAhead(ticket);
        var b = ReadyWorker("shop-2");

        dispatcher.Add(b);

        Assert.True(ticket.IsTakenBack);
        Assert.Same(b, ticket.MovedTo);
        Assert.Equal(1, b.InFlight);
    }

    [Fact(Timeout = 10_000)]
    public async Task QueueDeadline_TakesBackARequestItsWorkerHasNotStarted_AsExpired()
    {
        var (dispatcher, a, ticket) = await BusyAndOneAheadAsync();
        using var exchange = SendAhead(ticket);
        dispatcher.StartQueueDeadline(ticket, waited: TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(ticket.IsTakenBack, "20 s of the queue's 30 are left");
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(ticket.IsTakenBack);
        Assert.True(ticket.Expired);
        Assert.Null(ticket.MovedTo);
        Assert.True(exchange.IsCancellationRequested);
        Assert.False(a.Tickets!.TryStart(ticket.Slot, ticket.Number));
    }

    [Fact(Timeout = 10_000)]
    public async Task QueueDeadline_StopsWhenTheRequestIsReleased()
    {
        var (dispatcher, a, ahead) = await BusyAndOneAheadAsync();
        using var exchange = SendAhead(ahead);
        dispatcher.StartQueueDeadline(ahead, TimeSpan.Zero);
        dispatcher.Release(a, ahead);

        _time.Advance(QueueTimeout * 2);

        Assert.False(ahead.IsTakenBack, "the deadline of a request whose hop is over must not fire");
        Assert.False(exchange.IsCancellationRequested);
    }

    [Fact(Timeout = 10_000)]
    public async Task QueueDeadline_PassedBeforeTheRequestWentOut_KeepsItFromGoingOut()
    {
        var (dispatcher, a, ticket) = await BusyAndOneAheadAsync();
        dispatcher.StartQueueDeadline(ticket, waited: QueueTimeout);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(ticket.IsTakenBack);
        Assert.True(ticket.Expired);
        Assert.False(ticket.TryIssue(), "taken back: the hop must not send it");
        using var exchange = new CancellationTokenSource();
        ticket.Attach(exchange);
        Assert.True(exchange.IsCancellationRequested);
        Assert.False(a.Tickets!.TryStart(ticket.Slot, ticket.Number), "never issued: a worker could not run it either");
        Assert.Equal((0, 0), (dispatcher.Prefetched, dispatcher.TakenBack)); // never handed ahead, so never taken back either
    }

    [Fact(Timeout = 10_000)]
    public async Task TryTakeBack_SucceedsOnce_AndNeverAfterTheWorkerTookIt()
    {
        var (dispatcher, a, ticket) = await BusyAndOneAheadAsync();
        using var exchange = SendAhead(ticket);

        Assert.True(ticket.TryTakeBack(null));
        Assert.False(ticket.TryTakeBack(null), "only the first taker owns the request");
        Assert.True(ticket.IsTakenBack);

        // The request taken back leaves; the next one handed ahead finds the worker quicker.
        dispatcher.Release(a, ticket, served: false);
        var next = (await TakeFreeAsync(dispatcher)).Ticket!;
        Assert.True(next.TryIssue());
        Assert.True(a.Tickets!.TryStart(next.Slot, next.Number));
        Assert.False(next.TryTakeBack(null), "the worker marked it started first");
        Assert.False(next.IsTakenBack);
    }

    [Fact(Timeout = 10_000)]
    public async Task TicketTable_AReusedSlot_NeverPassesForTheTicketItHeldBefore()
    {
        await Task.Yield();
        using var table = TicketTable.TryCreate(_dir.Combine("w9.sock.tickets"))!;
        var slot = table.TryAllocate();
        Assert.True(table.TryIssue(slot, 41));
        Assert.True(table.TryTakeBack(slot, 41));
        table.Free(slot);
        Assert.Equal(slot, table.TryAllocate());
        Assert.True(table.TryIssue(slot, 42));

        // Ticket 41's request, taken back, reaches the worker only now: it finds 42 there and drops it.
        Assert.False(table.TryStart(slot, 41));
        Assert.True(table.TryStart(slot, 42));
        Assert.False(table.TryTakeBack(slot, 42), "started: the host cannot take it back any more");
    }

    [Fact(Timeout = 10_000)]
    public async Task Add_ANewWorkerWithTwoThreads_TakesBackARequestForEach()
    {
        var (dispatcher, ahead, other) = await BothBusyAndOneAheadAsync();
        var second = await TakeFreeAsync(dispatcher);
        Assert.Same(other, second.Worker);
        using var first = SendAhead(ahead.Ticket!);
        using var next = SendAhead(second.Ticket!);
        var wide = ReadyWorker("shop-3", threads: 2);

        dispatcher.Add(wide);

        Assert.True(ahead.Ticket!.IsTakenBack);
        Assert.True(second.Ticket!.IsTakenBack);
        Assert.Same(wide, ahead.Ticket.MovedTo);
        Assert.Same(wide, second.Ticket.MovedTo);
        Assert.Equal(2, wide.InFlight);
    }
}
