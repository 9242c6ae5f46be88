using System.Globalization;
using System.Text;
using System.Text.Json;
using PyPE.LoadTests.Running;

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

    public static async Task<IReadOnlyList<string>> WriteCapacityAsync(CapacityReport capacity, string folder)
    {
        Directory.CreateDirectory(folder);
        var json = Path.Combine(folder, "capacity.json");
        var markdown = Path.Combine(folder, "capacity.md");
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(capacity, Json));
        await File.WriteAllTextAsync(markdown, CapacityMarkdown(capacity));
        return [json, markdown];
    }

    public static string CapacityMarkdown(CapacityReport capacity)
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.Append("# SLO capacity search\n\n");
        if (capacity.HighestHeld is { } held)
        {
            md.Append(c, $"Highest rate that held every threshold: {string.Join(", ", held.Scenarios.Select(s => $"{s.Scenario.Name} {s.Scenario.RatePerSecond:0.#}/s ({s.Scenario.RatePerSecond * 60:N0}/min)"))}.");
            md.Append(capacity.Steps.All(s => s.Passed)
                ? " Every step held: the capacity is at least this, not this (raise --max-steps to find it).\n\n"
                : "\n\n");
        }
        else
        {
            md.Append("Even the first step failed a threshold.\n\n");
        }

        md.Append("| step | rates (/s) | answered | errors + dropped | under 2 s (dynamic) | p99 ms (worst scenario) | result |\n|---:|---|---:|---:|---:|---:|---|\n");
        for (var i = 0; i < capacity.Steps.Count; i++)
        {
            var step = capacity.Steps[i];
            var latency = step.Thresholds.FirstOrDefault(t => t.Id == "latency")?.ValueText ?? "—";
            var failed = string.Join(", ", step.Thresholds.Where(t => t.Passed == false).Select(t => t.Id));
            md.Append(c, $"| {i + 1} | {string.Join(", ", step.Scenarios.Select(s => $"{s.Scenario.Name} {s.Scenario.RatePerSecond:0.#}"))} | {step.Scenarios.Sum(s => s.Completed)} | ");
            md.Append(c, $"{step.Scenarios.Sum(s => s.Errors + s.Dropped)} | {latency} | {step.Scenarios.Max(s => s.LatencyPercentilesMs[99]):0.#} | {(step.Passed ? "held" : "**broke: " + failed + "**")} |\n");
        }

        return md.ToString();
    }

    /// <summary>"200 × 45,000" or "200 × 40, 404 × 20, no answer × 3": what the scenario's answers were.</summary>
    internal static string StatusText(ScenarioResult result) =>
        result.Statuses.Count == 0 ? "none" : string.Join(", ", result.Statuses.Select(s => string.Create(CultureInfo.InvariantCulture, $"{(s.Key == 0 ? "no answer" : s.Key)} × {s.Value:N0}")));

    public static string Markdown(RunReport report)
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.Append(c, $"# SLO load test: {(report.Passed ? "PASSED" : "FAILED")}\n\n");
        md.Append(c, $"Target {report.Target}, started {report.StartedAt:yyyy-MM-dd HH:mm:ss} UTC, {report.DurationSeconds:0.#} s of open-model load, {report.Plan} ");
        md.Append(report.WarmupSeconds > 0 ? string.Create(c, $"after {report.WarmupSeconds:0.#} s of warm-up (not counted) ") : "");
        md.Append(c, $"(request timeout {report.RequestTimeoutSeconds:0.#} s, at most {report.MaxInFlight} in flight); {report.Machine}.\n\n");
        md.Append("| scenario | class | rate/s | scheduled | answered | errors | dropped | throughput/s | p50 ms | p90 ms | p99 ms | max ms | under 2 s | client lag p99 ms | answers by status |\n");
        md.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        foreach (var s in report.Scenarios)
        {
            var p = s.LatencyPercentilesMs;
            md.Append(c, $"| {s.Scenario.Name} (`{s.Scenario.Path}`) | {s.Scenario.Class.ToString().ToLowerInvariant()} | {s.Scenario.RatePerSecond:0.##} | {s.Scheduled} | {s.Completed} | {s.Errors} | {s.Dropped} | ");
            md.Append(c, $"{s.ThroughputPerSecond:0.#} | {p[50]:0.#} | {p[90]:0.#} | {p[99]:0.#} | {p[100]:0.#} | {s.FastShare:P1} | {s.StartLagPercentilesMs[99]:0.##} | {StatusText(s)} |\n");
        }

        if (ClientLagNote.For(report) is { } behind)
        {
            md.Append('\n').Append(behind).Append('\n');
        }

        md.Append("\n| threshold | measured | target | result |\n|---|---:|---:|---|\n");
        foreach (var t in report.Thresholds)
        {
            md.Append(c, $"| {t.Name} | {t.ValueText} | {t.TargetText} | {(t.Passed == false ? "**FAIL**" : t.ResultText)} |\n");
        }

        return md.ToString();
    }
}
