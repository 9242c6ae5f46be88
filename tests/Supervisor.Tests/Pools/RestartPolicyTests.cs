using Microsoft.Extensions.Time.Testing;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Tests.TestSupport;

namespace PyPE.Supervisor.Tests.Pools;

public sealed class RestartPolicyTests
{
    private static readonly TimeSpan Cooldown = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _time = new();

    private static RestartPolicyOptions Options() => new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(1),
        StableUptime = TimeSpan.FromSeconds(30),
        BreakerThreshold = 3,
        BreakerCooldown = Cooldown,
    };

    private RestartPolicy Policy(RestartPolicyOptions? options = null, Random? random = null) =>
        new(options ?? Options(), _time, random ?? new FixedRandom(0.5));

    [Fact]
    public void Backoff_DoublesPerFailure_AndIsCappedAtMaxDelay()
    {
        // NextDouble 0.5 → 75 % of the ceiling.
        var policy = Policy(new RestartPolicyOptions { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), BreakerThreshold = 100 });

        double[] expected = [75, 150, 300, 600, 750, 750];
        Assert.Equal(expected, new[] { 1, 2, 3, 4, 5, 6 }.Select(n => policy.Backoff(n).TotalMilliseconds));
        Assert.Equal(750, policy.Backoff(1000).TotalMilliseconds);
    }

    [Theory]
    [InlineData(0.0, 50)]
    [InlineData(0.999999, 100)]
    public void Backoff_JitterSpansHalfToAllOfTheDelay(double random, double percent)
    {
        var policy = Policy(random: new FixedRandom(random));

        Assert.Equal(percent, policy.Backoff(1).TotalMilliseconds, precision: 2);
    }

    [Fact]
    public void Backoff_WithRealRandom_StaysWithinFiftyToHundredPercent()
    {
        var policy = Policy(random: new Random(12345));

        for (var failures = 1; failures <= 8; failures++)
        {
            var ceiling = Math.Min(100 * Math.Pow(2, failures - 1), 1000);
            for (var i = 0; i < 200; i++)
            {
                var delay = policy.Backoff(failures).TotalMilliseconds;
                Assert.InRange(delay, ceiling * 0.5, ceiling);
            }
        }
    }

    [Fact]
    public void Wait_IsZeroWithoutFailures_PositiveAfterOne_AndZeroOnceTheDelayPassed()
    {
        var policy = Policy();
        Assert.Equal(TimeSpan.Zero, policy.Wait);

        Assert.False(policy.OnFailure());

        Assert.Equal(TimeSpan.FromMilliseconds(75), policy.Wait);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(TimeSpan.FromMilliseconds(25), policy.Wait);
        _time.Advance(TimeSpan.FromMilliseconds(25));
        Assert.Equal(TimeSpan.Zero, policy.Wait);
    }

    [Fact]
    public void OnFailure_AtTheThreshold_OpensTheBreakerForTheCooldown()
    {
        var policy = Policy();

        Assert.False(policy.OnFailure());
        Assert.False(policy.OnFailure());
        Assert.False(policy.BreakerOpen);
        Assert.True(policy.OnFailure());

        Assert.True(policy.BreakerOpen);
        Assert.Equal(3, policy.ConsecutiveFailures);
        Assert.Equal(Cooldown, policy.Wait);
    }

    [Fact]
    public void OpenBreaker_AllowsOneTrialPerCooldown()
    {
        var policy = Policy();
        OpenBreaker(policy);

        _time.Advance(Cooldown);
        Assert.Equal(TimeSpan.Zero, policy.Wait);
        policy.OnStarting();

        Assert.True(policy.TrialInProgress);
        Assert.Equal(Timeout.InfiniteTimeSpan, policy.Wait);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(Timeout.InfiniteTimeSpan, policy.Wait);
    }

    [Fact]
    public void OnReady_AfterATrial_ClosesTheBreaker()
    {
        var policy = Policy();
        OpenBreaker(policy);
        _time.Advance(Cooldown);
        policy.OnStarting();

        policy.OnReady();

        Assert.False(policy.BreakerOpen);
        Assert.False(policy.TrialInProgress);
        Assert.Equal(TimeSpan.Zero, policy.Wait);
    }

    [Fact]
    public void FailedTrial_DoublesTheCooldown_UpToTenMinutes()
    {
        var policy = Policy();
        OpenBreaker(policy);

        TimeSpan[] expected = [TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(8), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10)];
        var cooldown = Cooldown;
        foreach (var next in expected)
        {
            _time.Advance(cooldown);
            policy.OnStarting();
            Assert.False(policy.OnFailure(), "a failed trial does not open the (already open) breaker again");
            Assert.True(policy.BreakerOpen);
            Assert.False(policy.TrialInProgress);
            Assert.Equal(next, policy.Wait);
            cooldown = next;
        }
    }

    [Fact]
    public void StartsBegunBeforeTheBreakerOpened_FailingLater_DoNotDoubleTheCooldown()
    {
        // A pool with several workers starting at once: the breaker opens on one failure, the others fail after it.
        var policy = Policy();
        OpenBreaker(policy);

        Assert.False(policy.OnFailure());
        Assert.False(policy.OnFailure());

        Assert.True(policy.BreakerOpen);
        Assert.Equal(5, policy.ConsecutiveFailures);
        Assert.Equal(Cooldown, policy.Wait);
        _time.Advance(Cooldown);
        Assert.Equal(TimeSpan.Zero, policy.Wait);
    }

    [Fact]
    public void ClosedAgain_TheCooldownStartsOverFromTheConfiguredValue()
    {
        var policy = Policy();
        OpenBreaker(policy);
        _time.Advance(Cooldown);
        policy.OnStarting();
        policy.OnFailure();
        _time.Advance(2 * Cooldown);
        policy.OnStarting();
        policy.OnReady();

        var readyAt = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMinutes(5));
        policy.OnUptime(readyAt);
        OpenBreaker(policy);

        Assert.Equal(Cooldown, policy.Wait);
    }

    [Fact]
    public void OnCrash_AfterStableUptime_ResetsTheCount()
    {
        var policy = Policy();
        policy.OnFailure();
        policy.OnFailure();

        var opened = policy.OnCrash(TimeSpan.FromSeconds(30));

        Assert.False(opened);
        Assert.False(policy.BreakerOpen);
        Assert.Equal(1, policy.ConsecutiveFailures);
        Assert.Equal(TimeSpan.FromMilliseconds(75), policy.Wait);
    }

    [Fact]
    public void OnCrash_OfAYoungWorker_CountsTowardsTheBreaker()
    {
        var policy = Policy();
        policy.OnFailure();
        policy.OnFailure();

        Assert.True(policy.OnCrash(TimeSpan.FromSeconds(29)));
        Assert.True(policy.BreakerOpen);
    }

    [Fact]
    public void OnUptime_OfAWorkerReadySinceTheLastFailure_PastStableUptime_ResetsTheCount_UnlessTheBreakerIsOpen()
    {
        var policy = Policy();
        policy.OnFailure();
        policy.OnFailure();
        _time.Advance(TimeSpan.FromSeconds(1));
        var readyAt = _time.GetUtcNow();

        _time.Advance(TimeSpan.FromSeconds(10));
        policy.OnUptime(readyAt);
        Assert.Equal(2, policy.ConsecutiveFailures);
        _time.Advance(TimeSpan.FromSeconds(20));
        policy.OnUptime(readyAt);
        Assert.Equal(0, policy.ConsecutiveFailures);

        OpenBreaker(policy);
        _time.Advance(TimeSpan.FromMinutes(5));
        policy.OnUptime(_time.GetUtcNow() - TimeSpan.FromMinutes(1));
        Assert.Equal(3, policy.ConsecutiveFailures);
    }

    [Fact]
    public void OnUptime_OfAnOldWorker_DoesNotForgiveFailuresThatCameAfterIt()
    {
        var policy = Policy();
        var oldWorkerReadyAt = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMinutes(10));
        policy.OnFailure();
        policy.OnFailure();

        policy.OnUptime(oldWorkerReadyAt);

        Assert.Equal(2, policy.ConsecutiveFailures);
    }

    private void OpenBreaker(RestartPolicy policy)
    {
        while (!policy.BreakerOpen)
        {
            _time.Advance(policy.Wait);
            policy.OnFailure();
        }
    }
}
