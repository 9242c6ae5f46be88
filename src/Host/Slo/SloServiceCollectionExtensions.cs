using Microsoft.Extensions.Options;

namespace PyPE.Host.Slo;

internal static class SloServiceCollectionExtensions
{
    /// <summary>SLI counting on the request path and the durable per-minute SLO ledger (<c>PyPE:Slo</c>).</summary>
    public static IServiceCollection AddSloLedger(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SloOptions>().Bind(configuration.GetSection(SloOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SloOptions>, SloOptionsValidator>();
        services.AddSingleton(sp => MaintenanceSchedule.From(sp.GetRequiredService<IOptions<SloOptions>>().Value, []));
        services.AddSingleton<SloCounterSet>();
        services.AddSingleton<SloLedgerService>();
        services.AddSingleton<SloReportBuilder>();
        services.AddHostedService(sp => sp.GetRequiredService<SloLedgerService>());
        return services;
    }
}
