using PyPE.Supervisor.Pools;

namespace PyPE.Host.Metrics;

internal static class MetricsServiceCollectionExtensions
{
    /// <summary>Prometheus metrics in the host's own registry, served on the admin listener.</summary>
    public static IServiceCollection AddPyPEMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        _ = configuration;
        services.AddSingleton<MetricsRegistry>();
        services.AddSingleton<PyPEMetrics>();
        services.AddSingleton<IPoolObserver, PoolEventsMetrics>();
        return services;
    }
}
