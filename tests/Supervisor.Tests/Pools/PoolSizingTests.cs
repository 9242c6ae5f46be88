using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Pools;

namespace PyPE.Supervisor.Tests.Pools;

public sealed class PoolSizingTests
{
    private static readonly PoolSettings Settings = new() { MinWorkers = 2, MaxWorkers = 5, Threads = 1 };

    [Theory]
    [InlineData(0, 0, 0, false, false, 2)] // idle: the minimum
    [InlineData(2, 0, 1, false, false, 3)] // one waiting request: one more worker
    [InlineData(2, 0, 10, false, false, 5)] // many waiting: capped at the maximum
    [InlineData(2, 0, 0, true, false, 3)] // refused with a full queue: demand all the same
    [InlineData(5, 0, 10, true, false, 5)] // at the maximum: no more
    [InlineData(4, 1, 0, false, false, 5)] // one being recycled: its replacement is wanted
    [InlineData(5, 1, 0, false, false, 6)] // a replacement may exceed the maximum for a moment
    public void Wanted_FollowsTheMinimumTheQueueAndRecycling(int serving, int recycling, int queued, bool overflowed, bool failed, int expected) =>
        Assert.Equal(expected, PoolSizing.Wanted(Settings, serving, recycling, queued, overflowed, failed));

    [Fact]
    public void Wanted_WhenFailed_IsAtLeastOne_EvenWithNoMinimum()
    {
        var noMinimum = new PoolSettings { MinWorkers = 0, MaxWorkers = 3 };
        Assert.Equal(0, PoolSizing.Wanted(noMinimum, 0, 0, 0, false, failed: false));
        Assert.Equal(1, PoolSizing.Wanted(noMinimum, 0, 0, 0, false, failed: true));
    }

    [Fact]
    public void Wanted_CountsThreadsPerWorker()
    {
        var threaded = new PoolSettings { MinWorkers = 1, MaxWorkers = 8, Threads = 4 };
        Assert.Equal(3, PoolSizing.Wanted(threaded, 1, 0, 8, false, false));
    }
}
