namespace PyPE.Host.Probes;

internal static class ProbeServiceCollectionExtensions
{
    /// <summary>The synthetic probe of every app's health path (time-based availability).</summary>
    public static IServiceCollection AddSyntheticProbes(this IServiceCollection services)
    {
        services.AddSingleton<SyntheticProbeMarker>();
        services.AddHostedService<SyntheticProber>();
        return services;
    }
}
