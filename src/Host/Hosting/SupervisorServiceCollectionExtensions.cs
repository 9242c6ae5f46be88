using PyPE.Supervisor;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Supervision;

namespace PyPE.Host.Hosting;

internal static class SupervisorServiceCollectionExtensions
{
    /// <summary>The process supervisor: platform versions, app pools and their workers.</summary>
    public static IServiceCollection AddSupervisor(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<PyPEOptions>(configuration.GetSection(PyPEOptions.SectionName));
        services.Configure<RestartPolicyOptions>(configuration.GetSection(RestartPolicyOptions.SectionName));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SupervisorService>();
        services.AddSingleton<ISupervisorState>(sp => sp.GetRequiredService<SupervisorService>());
        services.AddHostedService(sp => sp.GetRequiredService<SupervisorService>());
        return services;
    }
}
