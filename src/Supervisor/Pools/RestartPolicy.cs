namespace PyPE.Supervisor.Pools;

/// <summary>
/// Capped, jittered exponential backoff between worker starts after failures, and a crash-loop breaker:
/// after <see cref="RestartPolicyOptions.BreakerThreshold"/> consecutive failures the app is failed, and
/// only one trial start is allowed per cooldown (which doubles, up to 10 minutes) until a worker stays up.
/// Not thread-safe: owned by its pool's control loop.
/// </summary>
internal sealed class RestartPolicy(RestartPolicyOptions options, TimeProvider time, Random random)
{
    private static readonly TimeSpan MaxCooldown = TimeSpan.FromMinutes(10);
    private DateTimeOffset _notBefore = DateTimeOffset.MinValue;
    private DateTimeOffset _lastFailureAt = DateTimeOffset.MinValue;
    private TimeSpan _cooldown = options.BreakerCooldown;

    public int ConsecutiveFailures { get; private set; }

    public bool BreakerOpen { get; private set; }

    /// <summary>True while a trial start is under way after the breaker opened.</summary>
    public bool TrialInProgress { get; private set; }

    /// <summary>How long until a worker may be started (zero = now).</summary>
    public TimeSpan Wait
    {
        get
        {
            if (BreakerOpen && TrialInProgress)
            {
                return Timeout.InfiniteTimeSpan;
            }

            var wait = _notBefore - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
    }

    /// <summary>Call when a start is about to be made; during an open breaker that start is the one trial.</summary>
    public void OnStarting()
    {
        if (BreakerOpen)
        {
            TrialInProgress = true;
        }
    }

    /// <summary>A worker failed to start or died young. Returns true when this opened the breaker.</summary>
    public bool OnFailure()
    {
        ConsecutiveFailures++;
        var now = time.GetUtcNow();
        _lastFailureAt = now;
        if (BreakerOpen)
        {
            if (!TrialInProgress)
            {
                // A start begun before the breaker opened (several workers start at once): the cooldown already
                // runs, and only a failed trial may lengthen it.
                return false;
            }

            TrialInProgress = false;
            _cooldown = _cooldown * 2 > MaxCooldown ? MaxCooldown : _cooldown * 2;
            _notBefore = now + _cooldown;
            return false;
        }

        if (ConsecutiveFailures >= options.BreakerThreshold)
        {
            BreakerOpen = true;
            _notBefore = now + _cooldown;
            return true;
        }

        _notBefore = now + Backoff(ConsecutiveFailures);
        return false;
    }

    /// <summary>A worker crashed after <paramref name="uptime"/> of service; a long-lived one counts as a fresh start.</summary>
    public bool OnCrash(TimeSpan uptime)
    {
        if (uptime >= options.StableUptime)
        {
            ConsecutiveFailures = 0;
        }

        return OnFailure();
    }

    /// <summary>A worker became ready; closes the breaker (the trial worked).</summary>
    public void OnReady()
    {
        if (BreakerOpen)
        {
            BreakerOpen = false;
            TrialInProgress = false;
            _cooldown = options.BreakerCooldown;
            _notBefore = DateTimeOffset.MinValue;
        }
    }

    /// <summary>
    /// A worker that became ready at <paramref name="readyAt"/> is still up. Past the stable threshold, and
    /// only if it became ready after the last failure, the failure count resets: an old worker that keeps
    /// serving says nothing about whether new ones can start (a broken deploy beside it must still back off).
    /// </summary>
    public void OnUptime(DateTimeOffset readyAt)
    {
        if (!BreakerOpen && readyAt > _lastFailureAt && time.GetUtcNow() - readyAt >= options.StableUptime)
        {
            ConsecutiveFailures = 0;
        }
    }

    internal TimeSpan Backoff(int failures)
    {
        var exponent = Math.Min(failures - 1, 20);
        var ceiling = Math.Min(options.InitialDelay.TotalMilliseconds * Math.Pow(2, exponent), options.MaxDelay.TotalMilliseconds);
        // Full spread would let two crashing pools sync up less, but a floor keeps a crash loop from spinning.
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (random.NextDouble() * 0.5)));
    }
}
