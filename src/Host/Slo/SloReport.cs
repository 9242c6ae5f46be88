namespace PyPE.Host.Slo;

/// <summary>The JSON of <c>GET /slo</c>: the SLA's key metrics, measured over 1 h, 1 d and 30 d.</summary>
internal sealed record SloReport(DateTimeOffset GeneratedAt, string Environment, string Ledger, string? LedgerError, IReadOnlyList<SloObjectiveReport> Objectives);

/// <summary>One objective with its measurement per window.</summary>
/// <param name="Id">Stable id.</param>
/// <param name="Name">What the SLA calls it.</param>
/// <param name="Target">A share (0.9876) for ratios, requests per minute for rates.</param>
/// <param name="Kind"><c>ratio</c>, <c>per_minute</c> or <c>not_measured</c>.</param>
/// <param name="Windows">Window label (<c>1h</c>, <c>1d</c>, <c>30d</c>) → measurement.</param>
internal sealed record SloObjectiveReport(string Id, string Name, double Target, string Kind, IReadOnlyDictionary<string, SloWindowReport> Windows);

/// <summary>One objective measured over one window.</summary>
/// <param name="Value">The measured share, or the busiest minute's count for rates; null without traffic or when not measured.</param>
/// <param name="Good">Good events (ratios); all events of the class (rates).</param>
/// <param name="Total">All events (ratios); minutes in the window (rates).</param>
/// <param name="ErrorBudgetRemaining">Share of the window's error budget left (ratios; negative once overspent).</param>
/// <param name="Met">Whether the objective holds; null when it cannot be told (no traffic, or a rate below target that passive traffic cannot prove a breach of).</param>
/// <param name="Complete">False when the ledger could not be read and only this run's counts are included.</param>
internal sealed record SloWindowReport(double? Value, long Good, long Total, double? ErrorBudgetRemaining, bool? Met, bool Complete)
{
    /// <summary>Minutes of the window inside planned maintenance (left out of the figures above).</summary>
    public long MaintenanceMinutes { get; init; }

    /// <summary>The same objective measured over the maintenance minutes only; null when there were none.</summary>
    public SloMaintenanceReport? Maintenance { get; init; }
}

/// <summary>What happened during planned maintenance: recorded and shown, not counted against the objective.</summary>
internal sealed record SloMaintenanceReport(double? Value, long Good, long Total);
