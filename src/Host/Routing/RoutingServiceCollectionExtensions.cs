using PyPE.Host.StaticFiles;

namespace PyPE.Host.Routing;

internal static class RoutingServiceCollectionExtensions
{
    /// <summary>App routing by host and path prefix, and the apps' static folders.</summary>
    public static IServiceCollection AddAppRouting(this IServiceCollection services, IConfiguration configuration)
    {
        _ = configuration;
        services.AddSingleton<StaticMountFactory>();
        services.AddSingleton<RouteTableProvider>();
        return services;
    }
}
