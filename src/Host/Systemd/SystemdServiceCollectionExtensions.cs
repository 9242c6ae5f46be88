using Microsoft.Extensions.Hosting.Systemd;

namespace PyPE.Host.Systemd;

internal static class SystemdServiceCollectionExtensions
{
    /// <summary>systemd notify + watchdog, the start-up banner and SIGHUP → reload of the apps directory.</summary>
    public static IServiceCollection AddSystemdIntegration(this IServiceCollection services)
    {
        services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
        services.AddHostedService<SystemdNotifyService>();
        services.AddHostedService<StartupBanner>();
        services.AddHostedService<ReloadOnHangup>();
        return services;
    }
}
