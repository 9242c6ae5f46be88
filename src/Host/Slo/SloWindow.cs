namespace PyPE.Host.Slo;

/// <summary>The counts of one reporting window (e.g. the last 60 minutes), per app, and its busiest minute.</summary>
/// <param name="Minutes">Length of the window in minutes.</param>
/// <param name="Apps">Counts per app outside planned maintenance (the label <c>none</c> holds requests that matched no app).</param>
/// <param name="PeakStaticPerMinute">Static requests in the busiest regular minute.</param>
/// <param name="PeakDynamicPerMinute">Dynamic requests in the busiest regular minute.</param>
/// <param name="Complete">False when the ledger could not be read and only in-memory counts are included.</param>
internal sealed record SloWindow(long Minutes, IReadOnlyDictionary<string, SloCounts> Apps, long PeakStaticPerMinute, long PeakDynamicPerMinute, bool Complete)
{
    /// <summary>Counts per app during planned maintenance: reported apart, not part of the objectives.</summary>
    public IReadOnlyDictionary<string, SloCounts> MaintenanceApps { get; init; } = new Dictionary<string, SloCounts>();

    /// <summary>Minutes of the window inside planned maintenance.</summary>
    public long MaintenanceMinutes { get; init; }

    public SloCounts Total => Sum(Apps);

    public SloCounts MaintenanceTotal => Sum(MaintenanceApps);

    /// <summary>The maintenance minutes as a window of their own, to measure the objectives over them.</summary>
    public SloWindow DuringMaintenance() => new(MaintenanceMinutes, MaintenanceApps, 0, 0, Complete);

    private static SloCounts Sum(IReadOnlyDictionary<string, SloCounts> apps) => apps.Values.Aggregate(default(SloCounts), (sum, counts) => sum + counts);
}
