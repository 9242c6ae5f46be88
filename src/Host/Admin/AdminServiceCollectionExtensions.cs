namespace PyPE.Host.Admin;

internal static class AdminServiceCollectionExtensions
{
    /// <summary>The admin listener (<c>PyPE:Admin:Urls</c>) with metrics, status and the admin API.</summary>
    public static IServiceCollection AddAdminListener(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<AdminOptions>(configuration.GetSection(AdminOptions.SectionName));
        services.AddSingleton<StatusReportBuilder>();
        services.AddSingleton<AdminServer>();
        services.AddHostedService(sp => sp.GetRequiredService<AdminServer>());
        return services;
    }
}
