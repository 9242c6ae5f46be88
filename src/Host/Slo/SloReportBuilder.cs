namespace PyPE.Host.Slo;

/// <summary>Measures every objective of <see cref="SloObjectives"/> over each reporting window.</summary>
internal sealed class SloReportBuilder(SloLedgerService ledger, IConfiguration configuration, TimeProvider time)
{
    public SloReport Build()
    {
        var windows = SloObjectives.Windows.Select(w => (w.Label, Window: ledger.Window(w.Minutes))).ToList();
        var objectives = SloObjectives.All.Select(objective => new SloObjectiveReport(
            objective.Id,
            objective.Name,
            objective.Target,
            KindName(objective.Kind),
            windows.ToDictionary(w => w.Label, w => Measure(objective, w.Window), StringComparer.Ordinal))).ToList();
        return new SloReport(time.GetUtcNow(), (configuration["PyPE:Environment"] ?? "TEST").ToUpperInvariant(), ledger.Path, ledger.Error, objectives);
    }

    private static SloWindowReport Measure(SloObjective objective, SloWindow window)
    {
        var (value, good, total) = objective.Measure(window);
        var report = objective.Kind switch
        {
            SloKind.Ratio => new SloWindowReport(value, good, total, ErrorBudgetRemaining(objective.Target, good, total), value is null ? null : value >= objective.Target, window.Complete),
            SloKind.PerMinute => new SloWindowReport(value, good, total, null, value >= objective.Target ? true : null, window.Complete),
            _ => new SloWindowReport(null, 0, 0, null, null, window.Complete),
        };
        if (window.MaintenanceMinutes == 0 && window.MaintenanceTotal.IsEmpty)
        {
            return report;
        }

        // Rates have no meaning over scattered maintenance minutes: only the ratios are shown for them.
        var (mValue, mGood, mTotal) = objective.Kind == SloKind.Ratio ? objective.Measure(window.DuringMaintenance()) : (null, 0, 0);
        return report with { MaintenanceMinutes = window.MaintenanceMinutes, Maintenance = new SloMaintenanceReport(mValue, mGood, mTotal) };
    }

    /// <summary>1 = nothing spent, 0 = all spent, negative = overspent; null without traffic.</summary>
    internal static double? ErrorBudgetRemaining(double target, long good, long total)
    {
        if (total == 0)
        {
            return null;
        }

        var budget = (1 - target) * total;
        return 1 - ((total - good) / budget);
    }

    private static string KindName(SloKind kind) => kind switch
    {
        SloKind.Ratio => "ratio",
        SloKind.PerMinute => "per_minute",
        _ => "not_measured",
    };
}
