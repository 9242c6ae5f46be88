using System.Globalization;
using System.Net;
using System.Text;

namespace PyPE.Host.Slo;

/// <summary>The SLA's "Key Metrics" table as a self-contained HTML page (no external assets).</summary>
internal static class SloHtml
{
    public static string Render(SloReport report)
    {
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
            <title>PyPE.Exec SLOs ({{WebUtility.HtmlEncode(report.Environment)}})</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em .7em;text-align:right}
            td:first-child,th:first-child{text-align:left}.ok{background:#e6f4ea}.bad{background:#fce8e6}.na{color:#888}</style></head><body>
            <h1>Key metrics</h1><p>Environment {{WebUtility.HtmlEncode(report.Environment)}} · generated {{report.GeneratedAt:yyyy-MM-dd HH:mm:ss}} UTC · ledger {{WebUtility.HtmlEncode(report.Ledger)}}</p>
            """);
        if (report.LedgerError is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"bad\">{WebUtility.HtmlEncode(report.LedgerError)} — figures cover this run only.</p>");
        }

        AppendTable(html, report);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>The key-metrics table alone (also part of the operator status page).</summary>
    public static void AppendTable(StringBuilder html, SloReport report)
    {
        html.Append("<table class=\"slo\"><tr><th>Objective</th><th>Target</th>");
        foreach (var (label, _) in SloObjectives.Windows)
        {
            html.Append(CultureInfo.InvariantCulture, $"<th>{label}</th><th>budget left ({label})</th>");
        }

        html.Append("</tr>");
        foreach (var objective in report.Objectives)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(objective.Name)}</td><td>{Format(objective.Kind, objective.Target)}</td>");
            foreach (var (label, _) in SloObjectives.Windows)
            {
                var window = objective.Windows[label];
                var css = window.Met switch { true => "ok", false => "bad", _ => "na" };
                var value = window.Value is { } v ? Format(objective.Kind, v) : "—";
                var budget = window.ErrorBudgetRemaining is { } b ? b.ToString("P1", CultureInfo.InvariantCulture) : "—";
                html.Append(CultureInfo.InvariantCulture, $"<td class=\"{css}\">{value}</td><td>{budget}</td>");
            }

            html.Append("</tr>");
        }
        html.Append("</table>");
        var maintenance = report.Objectives.Count > 0 ? report.Objectives[0].Windows.Values.Max(w => w.MaintenanceMinutes) : 0;
        if (maintenance > 0)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"na\">Planned maintenance: {maintenance} min in the last 30 d, left out of these figures and reported apart (<code>/slo</code> JSON → <code>maintenance</code>).</p>");
        }
    }

    private static string Format(string kind, double value) => kind switch
    {
        "ratio" => value.ToString("P2", CultureInfo.InvariantCulture),
        "per_minute" => value.ToString("N0", CultureInfo.InvariantCulture) + "/min",
        _ => value.ToString("P2", CultureInfo.InvariantCulture),
    };
}
