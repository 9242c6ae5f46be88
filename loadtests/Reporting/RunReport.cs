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

    /// <summary>How the load was offered: <c>constant</c> or the ramp's factors.</summary>
    public string Plan { get; init; } = "constant";

    /// <summary>Seconds of load offered before this run and not counted in it (0: measured from a cold start).</summary>
    public double WarmupSeconds { get; init; }
}

/// <summary>A capacity search: every step's run, and the highest step that held (null when even the first failed).</summary>
public sealed record CapacityReport(IReadOnlyList<RunReport> Steps, RunReport? HighestHeld)
{
    /// <summary>What the search says as one run: the highest step that held, else the first step (which failed).</summary>
    public RunReport Verdict => HighestHeld ?? Steps[0];
}
