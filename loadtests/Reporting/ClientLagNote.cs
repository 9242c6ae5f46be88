using System.Globalization;
using PyPE.LoadTests.Running;

namespace PyPE.LoadTests.Reporting;

/// <summary>What the reports say when the client itself started requests late: the latencies then measure the client too.</summary>
public static class ClientLagNote
{
    /// <summary>The note, or null when every scenario's requests started on time.</summary>
    public static string? For(RunReport report)
    {
        var worst = report.Scenarios.Where(s => s.ClientFellBehind).MaxBy(s => s.StartLagPercentilesMs[99]);
        return worst is null ? null : string.Create(CultureInfo.InvariantCulture, $"The client fell behind its schedule ({worst.Scenario.Name}: requests started up to {worst.StartLagPercentilesMs[99]:0.##} ms late at p99, beside a p99 latency of {worst.LatencyPercentilesMs[99]:0.##} ms): the latencies include that lag. Run the suite on a machine (or cores) of its own, or at lower rates.");
    }
}
