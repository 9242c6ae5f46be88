using PyPE.Host.Metrics;
using PyPE.Host.StaticFiles;
using PyPE.Supervisor.Pools;
using Yarp.ReverseProxy.Forwarder;

namespace PyPE.Host.Routing;

/// <summary>Everything the request path needs about one app, resolved once per snapshot, not per request.</summary>
internal sealed class AppRoute(AppPool pool, StaticMount[] staticMounts, AppMetrics metrics, ForwarderRequestConfig forwarderConfig)
{
    public AppPool Pool { get; } = pool;

    public string PathPrefix { get; } = pool.App.Route.PathPrefix;

    /// <summary>The app's static folders, longest URL prefix first.</summary>
    public StaticMount[] StaticMounts { get; } = staticMounts;

    public AppMetrics Metrics { get; } = metrics;

    public ForwarderRequestConfig ForwarderConfig { get; } = forwarderConfig;

    public long MaxRequestBodyBytes { get; } = pool.App.Pool.MaxRequestBodyBytes;
}
