namespace PyPE.Supervisor.Pools;

/// <summary>One request waiting in a <see cref="WorkerDispatcher"/> queue.</summary>
internal sealed class SlotWaiter(WorkerDispatcher owner)
{
    private readonly TaskCompletionSource<AcquireResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _claimed;

    /// <summary>The first of (a slot, a timeout, the client leaving) to claim the waiter decides its outcome.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    public bool IsClaimed => Volatile.Read(ref _claimed) == 1;

    public void Complete(AcquireResult result) => _result.TrySetResult(result);

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
            _result.TrySetResult(AcquireResult.Fail(reason));
        }
    }
}
