using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PyPE.LoadTests.Reporting;

/// <summary>Writes a run's report for machines (JSON) and for people (Markdown, and HTML with charts).</summary>
public static class ReportWriter
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<IReadOnlyList<string>> WriteAsync(RunReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        var json = Path.Combine(folder, "report.json");
        var markdown = Path.Combine(folder, "report.md");
        var html = Path.Combine(folder, "report.html");
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, Json));
        await File.WriteAllTextAsync(markdown, Markdown(report));
        await File.WriteAllTextAsync(html, HtmlReport.Render(report));
        return [json, markdown, html];
    }

    public static string Markdown(RunReport report)
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.Append(c, $"# SLO load test: {(report.Passed ? "PASSED" : "FAILED")}\n\n");
        md.Append(c, $"Target {report.Target}, started {report.StartedAt:yyyy-MM-dd HH:mm:ss} UTC, {report.DurationSeconds:0.#} s of open-model load ");
        md.Append(c, $"(request timeout {report.RequestTimeoutSeconds:0.#} s, at most {report.MaxInFlight} in flight); {report.Machine}.\n\n");
        md.Append("| scenario | class | rate/s | scheduled | answered | errors | dropped | throughput/s | p50 ms | p90 ms | p99 ms | max ms | under 2 s |\n");
        md.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var s in report.Scenarios)
        {
            var p = s.LatencyPercentilesMs;
            md.Append(c, $"| {s.Scenario.Name} (`{s.Scenario.Path}`) | {s.Scenario.Class.ToString().ToLowerInvariant()} | {s.Scenario.RatePerSecond:0.##} | {s.Scheduled} | {s.Completed} | {s.Errors} | {s.Dropped} | ");
            md.Append(c, $"{s.ThroughputPerSecond:0.#} | {p[50]:0.#} | {p[90]:0.#} | {p[99]:0.#} | {p[100]:0.#} | {s.FastShare:P1} |\n");
        }

        md.Append("\n| threshold | measured | target | result |\n|---|---:|---:|---|\n");
        foreach (var t in report.Thresholds)
        {
            md.Append(c, $"| {t.Name} | {t.ValueText} | {t.TargetText} | {(t.Passed == false ? "**FAIL**" : t.ResultText)} |\n");
        }

        return md.ToString();
    }
}
