namespace PyPE.Host.Slo;

/// <summary>The service level objectives of the SLA's "Key Metrics" table, and how each is measured from a window.</summary>
internal static class SloObjectives
{
    public static readonly (string Label, long Minutes)[] Windows = [("1h", 60), ("1d", 24 * 60), ("30d", 30 * 24 * 60)];

    public static IReadOnlyList<SloObjective> All { get; } =
    [
        new("availability", "Availability of the execution environment (requests not failed by the platform)", 0.9876, SloKind.Ratio,
            w => Ratio(w.Total.Requests - w.Total.PlatformErrors, w.Total.Requests)),
        new("probe_availability", "Availability of the execution environment over time (synthetic probes answered)", 0.9876, SloKind.Ratio,
            w => Ratio(w.Total.ProbesOk, w.Total.Probes)),
        new("latency", "Web requests answered in under 2 s (dynamic)", 0.90, SloKind.Ratio,
            w => Ratio(w.Total.DynamicFast, w.Total.Dynamic)),
        new("trivial_throughput", "Trivial (static data) requests per minute, busiest minute", 4500, SloKind.PerMinute,
            w => (w.PeakStaticPerMinute, w.Total.Static, w.Minutes)),
        new("page_throughput", "Simple (page load) requests per minute, busiest minute", 1000, SloKind.PerMinute,
            w => (w.PeakDynamicPerMinute, w.Total.Dynamic, w.Minutes)),
        new("deployment_availability", "Availability of the deployment service", 0.9876, SloKind.NotMeasured, _ => (null, 0, 0)),
        new("batch_availability", "Availability of the batch execution environment", 0.9862, SloKind.NotMeasured, _ => (null, 0, 0)),
    ];

    private static (double? Value, long Good, long Total) Ratio(long good, long total) => (total == 0 ? null : (double)good / total, good, total);
}

internal enum SloKind
{
    /// <summary>A share of good events; has an error budget.</summary>
    Ratio,

    /// <summary>A rate per minute that must exceed the target.</summary>
    PerMinute,

    /// <summary>Not measured by this host (yet).</summary>
    NotMeasured,
}

/// <summary>One objective of the SLA.</summary>
/// <param name="Id">Stable id (JSON, alerts).</param>
/// <param name="Name">What the SLA calls it.</param>
/// <param name="Target">A share (0.9876) for ratios, a count per minute for rates.</param>
/// <param name="Kind">How it is measured.</param>
/// <param name="Measure">From a window: the value (null without traffic), the good events and all events.</param>
internal sealed record SloObjective(string Id, string Name, double Target, SloKind Kind, Func<SloWindow, (double? Value, long Good, long Total)> Measure);
