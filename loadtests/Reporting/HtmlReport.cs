using System.Globalization;
using System.Net;
using System.Text;
using PyPE.LoadTests.Running;

namespace PyPE.LoadTests.Reporting;

/// <summary>
/// The run as one self-contained HTML page: verdict, thresholds, the scenario table, a latency-percentile plot
/// (log scale toward 100 %, like HdrHistogram's plots) and throughput and p90 latency over time — inline SVG,
/// no scripts or assets from elsewhere.
/// </summary>
public static class HtmlReport
{
    private const int Width = 880;
    private const int Height = 300;
    private const int Left = 64;
    private const int Right = 20;
    private const int Top = 16;
    private const int Bottom = 44;
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Render(RunReport report)
    {
        var html = new StringBuilder(64 * 1024);
        html.Append(C, $$"""
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>SLO load test: {{(report.Passed ? "passed" : "FAILED")}}</title>
            <style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5em 2em;color:#222}table{border-collapse:collapse;margin:.5em 0}
            td,th{border:1px solid #d6d6d6;padding:.3em .6em;text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f4f4f4}
            .pass{background:#e6f4ea}.fail{background:#fce8e6}.na{color:#777}svg text{font:12px system-ui,sans-serif}h2{margin-top:1.6em}</style></head><body>
            <h1>SLO load test: <span class="{{(report.Passed ? "pass" : "fail")}}">{{(report.Passed ? "passed" : "FAILED")}}</span></h1>
            <p>Target {{E(report.Target)}} · started {{report.StartedAt:yyyy-MM-dd HH:mm:ss}} UTC · {{report.DurationSeconds:0.#}} s open-model load ·
            request timeout {{report.RequestTimeoutSeconds:0.#}} s · at most {{report.MaxInFlight}} in flight · {{E(report.Machine)}}</p>
            <h2>Thresholds</h2><table><tr><th>Threshold</th><th>Measured</th><th>Target</th><th>Result</th></tr>
            """);
        foreach (var t in report.Thresholds)
        {
            var css = t.Passed switch { true => "pass", false => "fail", _ => "na" };
            html.Append(C, $"<tr><td>{E(t.Name)}</td><td>{t.ValueText}</td><td>{t.TargetText}</td><td class=\"{css}\">{E(t.ResultText)}</td></tr>");
        }

        html.Append("</table><h2>Scenarios</h2><table><tr><th>Scenario</th><th>Class</th><th>Rate/s</th><th>Scheduled</th><th>Answered</th><th>Errors</th><th>Dropped</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th><th>Under 2 s</th><th>Client lag p99 ms</th><th>Answers by status</th></tr>");
        foreach (var s in report.Scenarios)
        {
            var p = s.LatencyPercentilesMs;
            html.Append(C, $"<tr><td>{E(s.Scenario.Name)} <code>{E(s.Scenario.Path)}</code></td><td>{s.Scenario.Class.ToString().ToLowerInvariant()}</td><td>{s.Scenario.RatePerSecond:0.##}</td><td>{s.Scheduled}</td><td>{s.Completed}</td><td>{s.Errors}</td><td>{s.Dropped}</td>");
            html.Append(C, $"<td>{p[50]:0.#}</td><td>{p[90]:0.#}</td><td>{p[99]:0.#}</td><td>{p[100]:0.#}</td><td>{s.FastShare:P1}</td><td>{s.StartLagPercentilesMs[99]:0.##}</td><td>{E(ReportWriter.StatusText(s))}</td></tr>");
        }

        html.Append("</table>");
        if (ClientLagNote.For(report) is { } behind)
        {
            html.Append("<p class=\"fail\">").Append(E(behind)).Append("</p>");
        }

        html.Append("<h2>Latency by percentile</h2>");
        AppendPercentilePlot(html, report.Scenarios);
        html.Append("<h2>Over time</h2><p>Per second of the schedule: the requests due in that second that were answered (solid) and their p90 latency (dashed, right axis). A stall shows as a p90 peak, not as a dip: requests are counted in the second they were due.</p>");
        AppendTimeline(html, report.Scenarios);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>x: percentile on a "number of nines" scale (0 %, 90 %, 99 %, 99.9 %...), y: latency in ms (log).</summary>
    private static void AppendPercentilePlot(StringBuilder html, IReadOnlyList<ScenarioResult> scenarios)
    {
        const double maxNines = 4; // up to 99.99 %
        var maxMs = Math.Max(1, scenarios.SelectMany(s => s.LatencyCurve).Select(p => p.LatencyMs).DefaultIfEmpty(1).Max());
        var minMs = Math.Max(0.1, scenarios.SelectMany(s => s.LatencyCurve).Select(p => p.LatencyMs).DefaultIfEmpty(1).Min());
        double X(double percentile) => Left + ((Width - Left - Right) * Math.Min(maxNines, -Math.Log10(Math.Max(1e-6, 1 - (percentile / 100)))) / maxNines);
        double Y(double ms) => Top + ((Height - Top - Bottom) * (1 - ((Math.Log10(ms) - Math.Log10(minMs)) / Math.Max(1e-9, Math.Log10(maxMs) - Math.Log10(minMs)))));

        html.Append(C, $"<svg width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"latency by percentile\">");
        AppendFrame(html);
        foreach (var (label, nines) in (ReadOnlySpan<(string, double)>)[("0%", 0), ("90%", 1), ("99%", 2), ("99.9%", 3), ("99.99%", 4)])
        {
            var x = Left + ((Width - Left - Right) * nines / maxNines);
            html.Append(C, $"<line x1=\"{x:0.#}\" y1=\"{Top}\" x2=\"{x:0.#}\" y2=\"{Height - Bottom}\" stroke=\"#eee\"/><text x=\"{x:0.#}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{label}</text>");
        }

        foreach (var ms in LogTicks(minMs, maxMs))
        {
            var y = Y(ms);
            html.Append(C, $"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right}\" y2=\"{y:0.#}\" stroke=\"#eee\"/><text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{ms:0.###} ms</text>");
        }

        if (2000 >= minMs && 2000 <= maxMs)
        {
            html.Append(C, $"<line x1=\"{Left}\" y1=\"{Y(2000):0.#}\" x2=\"{Width - Right}\" y2=\"{Y(2000):0.#}\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"/><text x=\"{Width - Right - 4}\" y=\"{Y(2000) - 4:0.#}\" text-anchor=\"end\" fill=\"#d62728\">2 s objective</text>");
        }

        for (var i = 0; i < scenarios.Count; i++)
        {
            var points = string.Join(' ', scenarios[i].LatencyCurve.Select(p => $"{X(p.Percentile).ToString("0.#", C)},{Y(Math.Max(minMs, p.LatencyMs)).ToString("0.#", C)}"));
            html.Append(C, $"<polyline fill=\"none\" stroke=\"{Colors[i % Colors.Length]}\" stroke-width=\"2\" points=\"{points}\"/>");
        }

        html.Append(C, $"<text x=\"{(Width + Left) / 2}\" y=\"{Height - 6}\" text-anchor=\"middle\">percentile</text></svg>");
        AppendLegend(html, scenarios);
    }

    private static void AppendTimeline(StringBuilder html, IReadOnlyList<ScenarioResult> scenarios)
    {
        var seconds = scenarios.Max(s => s.CompletedPerSecond.Length);
        var maxRate = Math.Max(1, scenarios.SelectMany(s => s.CompletedPerSecond).DefaultIfEmpty(1).Max());
        var maxMs = Math.Max(1, scenarios.SelectMany(s => s.P90MsPerSecond).DefaultIfEmpty(1).Max());
        double X(int second) => Left + ((Width - Left - Right - 40) * (second + 0.5) / Math.Max(1, seconds));
        double YRate(double rate) => Top + ((Height - Top - Bottom) * (1 - (rate / (maxRate * 1.1))));
        double YMs(double ms) => Top + ((Height - Top - Bottom) * (1 - (ms / (maxMs * 1.1))));

        html.Append(C, $"<svg width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"throughput and latency over time\">");
        AppendFrame(html, right: Width - Right - 40);
        for (var tick = 0; tick <= 4; tick++)
        {
            var rate = maxRate * 1.1 * tick / 4;
            var ms = maxMs * 1.1 * tick / 4;
            var y = YRate(rate);
            html.Append(C, $"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right - 40}\" y2=\"{y:0.#}\" stroke=\"#eee\"/><text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{rate:0}/s</text>");
            html.Append(C, $"<text x=\"{Width - Right - 36}\" y=\"{y + 4:0.#}\">{ms:0.#} ms</text>");
        }

        var step = Math.Max(1, seconds / 10);
        for (var second = 0; second < seconds; second += step)
        {
            html.Append(C, $"<text x=\"{X(second):0.#}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{second} s</text>");
        }

        for (var i = 0; i < scenarios.Count; i++)
        {
            var color = Colors[i % Colors.Length];
            var rates = string.Join(' ', scenarios[i].CompletedPerSecond.Select((n, s) => $"{X(s).ToString("0.#", C)},{YRate(n).ToString("0.#", C)}"));
            var p90 = string.Join(' ', scenarios[i].P90MsPerSecond.Select((ms, s) => $"{X(s).ToString("0.#", C)},{YMs(ms).ToString("0.#", C)}"));
            html.Append(C, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{rates}\"/><polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" points=\"{p90}\"/>");
        }

        html.Append(C, $"<text x=\"{(Width + Left) / 2}\" y=\"{Height - 6}\" text-anchor=\"middle\">seconds into the run (by intended start)</text></svg>");
        AppendLegend(html, scenarios);
    }

    private static void AppendFrame(StringBuilder html, int? right = null) =>
        html.Append(C, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{(right ?? Width - Right) - Left}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#999\"/>");

    private static void AppendLegend(StringBuilder html, IReadOnlyList<ScenarioResult> scenarios)
    {
        html.Append("<p>");
        for (var i = 0; i < scenarios.Count; i++)
        {
            html.Append(C, $"<span style=\"color:{Colors[i % Colors.Length]}\">■</span> {E(scenarios[i].Scenario.Name)} &nbsp; ");
        }

        html.Append("</p>");
    }

    private static IEnumerable<double> LogTicks(double min, double max)
    {
        for (var decade = Math.Pow(10, Math.Floor(Math.Log10(min))); decade <= max * 1.0001; decade *= 10)
        {
            if (decade >= min * 0.9999)
            {
                yield return decade;
            }
        }
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
