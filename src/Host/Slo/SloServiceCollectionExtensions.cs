namespace PyPE.Host.Slo;

internal static class SloServiceCollectionExtensions
{
    /// <summary>SLI counting on the request path and the durable per-minute SLO ledger (<c>PyPE:Slo</c>).</summary>
    public static IServiceCollection AddSloLedger(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<SloOptions>(configuration.GetSection(SloOptions.SectionName));
        services.AddSingleton<SloCounterSet>();
        services.AddSingleton<SloLedgerService>();
        services.AddSingleton<SloReportBuilder>();
        services.AddHostedService(sp => sp.GetRequiredService<SloLedgerService>());
        return services;
    }
}
