namespace PyPE.Supervisor.Pools;

/// <summary>How a pool replaces workers that crash or fail to start; bound from <c>PyPE:Restarts</c>.</summary>
public sealed class RestartPolicyOptions
{
    public const string SectionName = "PyPE:Restarts";

    /// <summary><c>InitialDelay</c>: backoff after the first failure (doubles per consecutive failure, jittered 50–100 %). Default 00:00:00.5.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary><c>MaxDelay</c>: cap of that backoff. Default 00:00:30.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>StableUptime</c>: a worker up this long resets the failure count. Default 00:00:30.</summary>
    public TimeSpan StableUptime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>BreakerThreshold</c>: consecutive failures that mark the app failed (crash-loop breaker). Default 5.</summary>
    public int BreakerThreshold { get; set; } = 5;

    /// <summary><c>BreakerCooldown</c>: wait before a failed app gets one more try; doubles each time, at most 10 min. Default 00:01:00.</summary>
    public TimeSpan BreakerCooldown { get; set; } = TimeSpan.FromSeconds(60);
}
