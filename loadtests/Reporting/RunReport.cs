using PyPE.LoadTests.Running;

namespace PyPE.LoadTests.Reporting;

/// <summary>Everything a run produced, as written to <c>report.json</c>.</summary>
public sealed record RunReport(
    string Target,
    DateTimeOffset StartedAt,
    double DurationSeconds,
    double RequestTimeoutSeconds,
    int MaxInFlight,
    string Machine,
    IReadOnlyList<ScenarioResult> Scenarios,
    IReadOnlyList<ThresholdResult> Thresholds)
{
    /// <summary>True when no threshold failed.</summary>
    public bool Passed => Thresholds.All(t => t.Passed != false);
}
