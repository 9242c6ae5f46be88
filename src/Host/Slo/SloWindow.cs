namespace PyPE.Host.Slo;

/// <summary>The counts of one reporting window (e.g. the last 60 minutes), per app, and its busiest minute.</summary>
/// <param name="Minutes">Length of the window in minutes.</param>
/// <param name="Apps">Counts per app (the label <c>none</c> holds requests that matched no app).</param>
/// <param name="PeakStaticPerMinute">Static requests in the busiest minute.</param>
/// <param name="PeakDynamicPerMinute">Dynamic requests in the busiest minute.</param>
/// <param name="Complete">False when the ledger could not be read and only in-memory counts are included.</param>
internal sealed record SloWindow(long Minutes, IReadOnlyDictionary<string, SloCounts> Apps, long PeakStaticPerMinute, long PeakDynamicPerMinute, bool Complete)
{
    public SloCounts Total => Apps.Values.Aggregate(default(SloCounts), (sum, counts) => sum + counts);
}
