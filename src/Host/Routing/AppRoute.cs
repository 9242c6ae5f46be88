using PyPE.Host.Metrics;
using PyPE.Host.StaticFiles;
using PyPE.Supervisor.Pools;

namespace PyPE.Host.Routing;

/// <summary>Everything the request path needs about one app, resolved once per snapshot, not per request.</summary>
internal sealed class AppRoute(AppPool pool, StaticMount[] staticMounts, AppMetrics metrics)
{
    public AppPool Pool { get; } = pool;

    public string PathPrefix { get; } = pool.App.Route.PathPrefix;

    /// <summary>The app's static folders, longest URL prefix first.</summary>
    public StaticMount[] StaticMounts { get; } = staticMounts;

    public AppMetrics Metrics { get; } = metrics;

    /// <summary>
    /// How long a worker may stay silent on a request before it is given up on (an inactivity timeout: a streamed
    /// answer that keeps flowing is not cut off).
    /// </summary>
    public TimeSpan RequestTimeout { get; } = pool.App.Pool.RequestTimeout;

    public long MaxRequestBodyBytes { get; } = pool.App.Pool.MaxRequestBodyBytes;
}
