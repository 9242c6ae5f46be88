using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Tests.Pools;

public sealed class WorkerDispatcherTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private WorkerDispatcher Dispatcher(int maxQueue = 10) => new(maxQueue, QueueTimeout, _time);

    private Worker ReadyWorker(string id, int capacity = 1, long recycleAfterRequests = 0)
    {
        var worker = new Worker(id, "shop", $"/tmp/x/{id}.sock", capacity, recycleAfterRequests, _time);
        Assert.True(worker.TryMove(WorkerState.Ready));
        return worker;
    }

    /// <summary>Takes a slot that must be free: the fast path completes synchronously.</summary>
    private static async Task<Worker> TakeFreeSlotAsync(WorkerDispatcher dispatcher)
    {
        var pending = dispatcher.AcquireAsync(CancellationToken.None);
        Assert.True(pending.IsCompleted, "a free slot is handed out synchronously");
        var result = await pending;
        Assert.Equal(AcquireFailure.None, result.Failure);
        return result.Worker!;
    }

    private static Task<AcquireResult> Queue(WorkerDispatcher dispatcher, CancellationToken cancellationToken = default)
    {
        var pending = dispatcher.AcquireAsync(cancellationToken).AsTask();
        Assert.False(pending.IsCompleted, "no slot is free: the request waits");
        return pending;
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_WithAnIdleWorker_TakesItsSlot()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);

        Assert.Same(worker, await TakeFreeSlotAsync(dispatcher));

        Assert.Equal(1, worker.InFlight);
        Assert.Equal(WorkerState.Busy, worker.State);
        Assert.Equal(1, dispatcher.Routable.Sum(w => w.InFlight));
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_NeverGivesAWorkerMoreThanItsCapacity()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1", capacity: 2);
        dispatcher.Add(worker);

        await TakeFreeSlotAsync(dispatcher);
        await TakeFreeSlotAsync(dispatcher);
        var third = Queue(dispatcher);

        Assert.Equal(2, worker.InFlight);
        Assert.Equal(1, dispatcher.QueueLength);
        dispatcher.Release(worker);
        Assert.Same(worker, (await third.WaitAsync(Patience)).Worker);
        Assert.Equal(2, worker.InFlight);
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_PicksTheLeastBusyWorker()
    {
        var dispatcher = Dispatcher();
        var a = ReadyWorker("shop-1", capacity: 2);
        var b = ReadyWorker("shop-2", capacity: 2);
        dispatcher.Add(a);
        dispatcher.Add(b);

        var first = await TakeFreeSlotAsync(dispatcher);
        var second = await TakeFreeSlotAsync(dispatcher);
        Assert.NotSame(first, second);
        Assert.Equal(1, a.InFlight);
        Assert.Equal(1, b.InFlight);

        var third = await TakeFreeSlotAsync(dispatcher);
        var other = third == a ? b : a;
        dispatcher.Release(third);
        dispatcher.Release(third);
        Assert.Equal(0, third.InFlight);

        // One busy and one idle worker: the idle one wins, whatever the rotation.
        Assert.Same(third, await TakeFreeSlotAsync(dispatcher));
        Assert.Equal(1, other.InFlight);
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_AmongIdleWorkers_TakesTheFirst_SoTheOthersCanGoIdle()
    {
        var dispatcher = Dispatcher();
        var first = ReadyWorker("shop-1");
        var second = ReadyWorker("shop-2");
        dispatcher.Add(first);
        dispatcher.Add(second);

        // One request at a time: every one goes to the first worker, the second is never touched.
        for (var i = 0; i < 5; i++)
        {
            Assert.Same(first, await TakeFreeSlotAsync(dispatcher));
            dispatcher.Release(first);
        }

        Assert.Equal(0, second.RequestsServed);

        // Two at a time: the second worker takes the overflow.
        Assert.Same(first, await TakeFreeSlotAsync(dispatcher));
        Assert.Same(second, await TakeFreeSlotAsync(dispatcher));
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_AmongIdleWorkers_PassesOverOneDueForRecycling()
    {
        var dispatcher = Dispatcher();
        var recycling = ReadyWorker("shop-1");
        var fresh = ReadyWorker("shop-2");
        dispatcher.Add(recycling);
        dispatcher.Add(fresh);
        recycling.RecycleReason = RecycleReasons.Memory; // serves until its replacement is ready

        Assert.Same(fresh, await TakeFreeSlotAsync(dispatcher));
        // Only when the others are busier.
        Assert.Same(recycling, await TakeFreeSlotAsync(dispatcher));
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_WhenRequestsWait_HandsTheSlotToTheFirstWaiter()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);
        await TakeFreeSlotAsync(dispatcher);

        var first = Queue(dispatcher);
        var second = Queue(dispatcher);
        Assert.Equal(2, dispatcher.QueueLength);

        dispatcher.Release(worker);

        Assert.Same(worker, (await first.WaitAsync(Patience)).Worker);
        Assert.False(second.IsCompleted);
        Assert.Equal(1, dispatcher.QueueLength);
        Assert.Equal(1, worker.InFlight);

        dispatcher.Release(worker);
        Assert.Same(worker, (await second.WaitAsync(Patience)).Worker);
        Assert.Equal(0, dispatcher.QueueLength);
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_RunsTheFirstWaiterOnTheReleasingThread_BeforeItReturns()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);
        await TakeFreeSlotAsync(dispatcher);
        // Queued and released on pool threads: no synchronization context to post the continuation to (as in Kestrel).
        Task<int>? waiting = null;
        await Task.Run(() => { waiting = ThreadAfterSlotAsync(dispatcher); });
        Assert.False(waiting!.IsCompleted);

        var (releasingThread, doneWhenReleaseReturned) = await Task.Run(() =>
        {
            dispatcher.Release(worker);
            return (Environment.CurrentManagedThreadId, waiting.IsCompleted);
        });

        Assert.True(doneWhenReleaseReturned, "the waiting request ran inside Release");
        Assert.Equal(releasingThread, await waiting);
        Assert.Equal(1, worker.InFlight);
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_MadeByAHandedOverRequest_GoesThroughTheThreadPool()
    {
        var dispatcher = Dispatcher();
        var first = ReadyWorker("shop-1");
        var second = ReadyWorker("shop-2");
        dispatcher.Add(first);
        dispatcher.Add(second);
        await TakeFreeSlotAsync(dispatcher);
        await TakeFreeSlotAsync(dispatcher);
        using var insideNestedRelease = new ThreadLocal<bool>();
        Task? outer = null;
        Task<bool>? inner = null;
        await Task.Run(() =>
        {
            // The first waiter, once it has a slot, frees the other worker's slot itself (a request ending).
            outer = ReleaseAfterSlotAsync(dispatcher, second, insideNestedRelease);
            inner = NestedAfterSlotAsync(dispatcher, insideNestedRelease);
        });

        await Task.Run(() => dispatcher.Release(first));
        await outer!.WaitAsync(Patience);

        Assert.False(await inner!.WaitAsync(Patience), "the second hand-off did not run inside the first");
        Assert.Equal(0, dispatcher.QueueLength);
    }

    private static async Task<int> ThreadAfterSlotAsync(WorkerDispatcher dispatcher)
    {
        await dispatcher.AcquireAsync(CancellationToken.None);
        return Environment.CurrentManagedThreadId;
    }

    private static async Task ReleaseAfterSlotAsync(WorkerDispatcher dispatcher, Worker other, ThreadLocal<bool> insideNestedRelease)
    {
        await dispatcher.AcquireAsync(CancellationToken.None);
        insideNestedRelease.Value = true;
        try
        {
            dispatcher.Release(other);
        }
        finally
        {
            insideNestedRelease.Value = false;
        }
    }

    private static async Task<bool> NestedAfterSlotAsync(WorkerDispatcher dispatcher, ThreadLocal<bool> insideNestedRelease)
    {
        await dispatcher.AcquireAsync(CancellationToken.None);
        return insideNestedRelease.Value;
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_WhenQueueFull_Rejects()
    {
        var dispatcher = Dispatcher(maxQueue: 1);
        dispatcher.Add(ReadyWorker("shop-1"));
        await TakeFreeSlotAsync(dispatcher);
        _ = Queue(dispatcher);

        var rejected = dispatcher.AcquireAsync(CancellationToken.None);

        Assert.True(rejected.IsCompleted, "a full queue answers at once");
        var result = await rejected;
        Assert.Equal(AcquireFailure.QueueFull, result.Failure);
        Assert.Null(result.Worker);
        Assert.Equal(1, dispatcher.QueueLength);
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_WithZeroMaxQueue_RejectsWhenNoSlotIsFree()
    {
        var dispatcher = Dispatcher(maxQueue: 0);

        var rejected = dispatcher.AcquireAsync(CancellationToken.None);

        Assert.True(rejected.IsCompleted);
        Assert.Equal(AcquireFailure.QueueFull, (await rejected).Failure);
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_WaitingLongerThanTheQueueTimeout_TimesOut()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);
        await TakeFreeSlotAsync(dispatcher);
        var waiting = Queue(dispatcher);

        _time.Advance(QueueTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        var result = await waiting.WaitAsync(Patience);
        Assert.Equal(AcquireFailure.QueueTimeout, result.Failure);
        Assert.Equal(0, dispatcher.QueueLength);

        // The timed-out waiter is skipped: the released slot stays free for the next request.
        dispatcher.Release(worker);
        Assert.Equal(0, worker.InFlight);
        Assert.Same(worker, await TakeFreeSlotAsync(dispatcher));
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_ClientGoneWhileWaiting_LeavesTheQueue()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);
        await TakeFreeSlotAsync(dispatcher);
        using var client = new CancellationTokenSource();
        var leaving = Queue(dispatcher, client.Token);
        var staying = Queue(dispatcher);

        await client.CancelAsync();

        Assert.Equal(AcquireFailure.ClientGone, (await leaving.WaitAsync(Patience)).Failure);
        Assert.Equal(1, dispatcher.QueueLength);
        dispatcher.Release(worker);
        Assert.Same(worker, (await staying.WaitAsync(Patience)).Worker);
    }

    [Fact(Timeout = 10_000)]
    public async Task Close_FailsWaitersAndNewRequests_UntilReopen()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);
        await TakeFreeSlotAsync(dispatcher);
        var waiting = Queue(dispatcher);

        dispatcher.Close(AcquireFailure.AppFailed);

        Assert.Equal(AcquireFailure.AppFailed, (await waiting.WaitAsync(Patience)).Failure);
        Assert.Equal(0, dispatcher.QueueLength);
        dispatcher.Release(worker);
        var rejected = dispatcher.AcquireAsync(CancellationToken.None);
        Assert.True(rejected.IsCompleted);
        Assert.Equal(AcquireFailure.AppFailed, (await rejected).Failure);

        dispatcher.Reopen();

        Assert.Same(worker, await TakeFreeSlotAsync(dispatcher));
    }

    [Fact(Timeout = 10_000)]
    public async Task Add_ANewWorker_ServesTheQueuedRequests()
    {
        var dispatcher = Dispatcher();
        var busy = ReadyWorker("shop-1");
        dispatcher.Add(busy);
        await TakeFreeSlotAsync(dispatcher);
        var first = Queue(dispatcher);
        var second = Queue(dispatcher);
        var third = Queue(dispatcher);
        var added = ReadyWorker("shop-2", capacity: 2);

        dispatcher.Add(added);

        Assert.Same(added, (await first.WaitAsync(Patience)).Worker);
        Assert.Same(added, (await second.WaitAsync(Patience)).Worker);
        Assert.False(third.IsCompleted);
        Assert.Equal(2, added.InFlight);
        Assert.Equal(1, dispatcher.QueueLength);
        Assert.Equal([busy, added], dispatcher.Routable);

        dispatcher.Add(added);
        Assert.Equal(2, dispatcher.Routable.Count);
    }

    [Fact(Timeout = 10_000)]
    public async Task Remove_StopsRouting_AndCompletesDrainedWhenTheLastRequestEnds()
    {
        var dispatcher = Dispatcher();
        var leaving = ReadyWorker("shop-1");
        var staying = ReadyWorker("shop-2");
        dispatcher.Add(leaving);
        await TakeFreeSlotAsync(dispatcher);
        dispatcher.Add(staying);

        dispatcher.Remove(leaving);

        Assert.Equal([staying], dispatcher.Routable);
        Assert.False(leaving.Drained.Task.IsCompleted);
        Assert.Same(staying, await TakeFreeSlotAsync(dispatcher));
        var waiting = Queue(dispatcher);

        dispatcher.Release(leaving);

        await leaving.Drained.Task.WaitAsync(Patience);
        Assert.Equal(0, leaving.InFlight);
        Assert.False(waiting.IsCompleted, "a removed worker's slot is not handed on");
        dispatcher.Release(staying);
        Assert.Same(staying, (await waiting.WaitAsync(Patience)).Worker);
    }

    [Fact]
    public void Remove_AnIdleWorker_CompletesDrainedAtOnce()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);

        dispatcher.Remove(worker);

        Assert.True(worker.Drained.Task.IsCompleted);
        Assert.Empty(dispatcher.Routable);
        _ = Queue(dispatcher);
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_AtTheRequestLimit_RaisesRecycleDueExactlyOnce()
    {
        var dispatcher = Dispatcher();
        var due = new List<Worker>();
        dispatcher.RecycleDue = due.Add;
        var worker = ReadyWorker("shop-1", recycleAfterRequests: 3);
        dispatcher.Add(worker);

        for (var i = 1; i <= 5; i++)
        {
            await TakeFreeSlotAsync(dispatcher);
            dispatcher.Release(worker);
            Assert.Equal(i >= 3 ? 1 : 0, due.Count);
        }

        Assert.Same(worker, Assert.Single(due));
        Assert.Equal(RecycleReasons.MaxRequests, worker.RecycleReason);
        Assert.Equal(5, worker.RequestsServed);
    }

    [Fact(Timeout = 10_000)]
    public async Task Release_StampsTheWorkersLastActivity()
    {
        var dispatcher = Dispatcher();
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);
        await TakeFreeSlotAsync(dispatcher);
        var before = worker.LastActiveTimestamp;

        _time.Advance(TimeSpan.FromSeconds(7));
        dispatcher.Release(worker);

        Assert.Equal(TimeSpan.FromSeconds(7), _time.GetElapsedTime(before, worker.LastActiveTimestamp));
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_WhenItHasToQueue_RaisesQueuePressure()
    {
        var dispatcher = Dispatcher();
        var pressure = 0;
        dispatcher.QueuePressure = () => pressure++;
        var worker = ReadyWorker("shop-1");
        dispatcher.Add(worker);

        await TakeFreeSlotAsync(dispatcher);
        Assert.Equal(0, pressure);

        var waiting = Queue(dispatcher);
        Assert.Equal(1, pressure);

        dispatcher.Release(worker);
        await waiting.WaitAsync(Patience);
        Assert.Equal(1, pressure);
    }

    [Fact(Timeout = 10_000)]
    public async Task AcquireAndRelease_UnderContention_NeverOverfillAWorker()
    {
        const int Tasks = 8;
        const int Rounds = 200;
        var dispatcher = new WorkerDispatcher(maxQueue: Tasks, TimeSpan.FromMinutes(1), TimeProvider.System);
        Worker[] workers = [ReadyWorker("shop-1"), ReadyWorker("shop-2"), ReadyWorker("shop-3")];
        foreach (var worker in workers)
        {
            dispatcher.Add(worker);
        }

        var holders = workers.ToDictionary(w => w, _ => new StrongBox<int>());
        var overfilled = 0;
        var served = 0;

        async Task RunAsync()
        {
            for (var i = 0; i < Rounds; i++)
            {
                var result = await dispatcher.AcquireAsync(CancellationToken.None);
                Assert.Equal(AcquireFailure.None, result.Failure);
                var worker = result.Worker!;
                var holder = holders[worker];
                if (Interlocked.Increment(ref holder.Value) != 1 || worker.InFlight > worker.Capacity)
                {
                    Interlocked.Increment(ref overfilled);
                }

                await Task.Yield();
                Interlocked.Decrement(ref holder.Value);
                Interlocked.Increment(ref served);
                dispatcher.Release(worker);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Tasks).Select(_ => Task.Run(RunAsync)));

        Assert.Equal(0, overfilled);
        Assert.Equal(Tasks * Rounds, served);
        Assert.Equal(Tasks * Rounds, workers.Sum(w => w.RequestsServed));
        Assert.All(workers, w => Assert.Equal(0, w.InFlight));
        Assert.Equal(0, dispatcher.QueueLength);
    }

    [Fact(Timeout = 10_000)]
    public async Task Acquire_WhenQueueFull_CountsTheOverflow_AndSignalsPressure()
    {
        var dispatcher = Dispatcher(maxQueue: 0);
        var pressure = 0;
        dispatcher.QueuePressure = () => pressure++;
        var worker = ReadyWorker("w1");
        dispatcher.Add(worker);
        await TakeFreeSlotAsync(dispatcher);

        var refused = await dispatcher.AcquireAsync(CancellationToken.None);
        await dispatcher.AcquireAsync(CancellationToken.None);

        Assert.Equal(AcquireFailure.QueueFull, refused.Failure);
        Assert.Equal(2, pressure);
        Assert.Equal(2, dispatcher.Overflowed);
        // The pool acts on the two it saw; one refused while it decided stays for its next decision.
        var seen = dispatcher.Overflowed;
        await dispatcher.AcquireAsync(CancellationToken.None);
        dispatcher.ClearOverflow(seen);
        Assert.Equal(1, dispatcher.Overflowed);
        dispatcher.ClearOverflow(dispatcher.Overflowed);
        Assert.Equal(0, dispatcher.Overflowed);
        dispatcher.Release(worker);
    }
}
