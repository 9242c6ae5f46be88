namespace PyPE.Supervisor.Pools;

/// <summary>One request waiting in a <see cref="WorkerDispatcher"/> queue.</summary>
internal sealed class SlotWaiter(WorkerDispatcher owner, long queuedAt)
{
    /// <summary>When the request joined the queue (a <see cref="TimeProvider"/> timestamp).</summary>
    public long QueuedAt { get; } = queuedAt;

    // Continuations run where the result is set: Complete hands it to the thread pool, CompleteInline runs the
    // waiting request on the caller's thread.
    private readonly TaskCompletionSource<AcquireResult> _result = new();
    private int _claimed;

    /// <summary>The first of (a slot, a timeout, the client leaving) to claim the waiter decides its outcome.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    public bool IsClaimed => Volatile.Read(ref _claimed) == 1;

    /// <summary>Sets the outcome from the thread pool: the waiting request does not run on the caller's thread.</summary>
    public void Complete(AcquireResult result) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Waiter._result.TrySetResult(state.Result), (Waiter: this, Result: result), preferLocal: false);

    /// <summary>Sets the outcome and runs the waiting request on this thread until it next waits.</summary>
    public void CompleteInline(AcquireResult result) => _result.TrySetResult(result);

    public async Task<AcquireResult> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken requestAborted)
    {
        using var timer = time.CreateTimer(static state => ((SlotWaiter)state!).Abandon(AcquireFailure.QueueTimeout), this, timeout, Timeout.InfiniteTimeSpan);
        await using var registration = requestAborted.Register(static state => ((SlotWaiter)state!).Abandon(AcquireFailure.ClientGone), this);
        return await _result.Task;
    }

    private void Abandon(AcquireFailure reason)
    {
        if (owner.TryAbandon(this))
        {
            Complete(AcquireResult.Fail(reason));
        }
    }
}
