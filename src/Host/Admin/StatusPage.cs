using System.Globalization;
using System.Net;
using System.Text;
using PyPE.Host.Slo;

namespace PyPE.Host.Admin;

/// <summary>
/// The operator status page (admin listener, <c>GET /</c>): host, platform versions with end of support, apps
/// with their pools, each worker, recent restarts, rejected app files and the SLO table. One self-contained
/// HTML document — no scripts, styles or fonts from elsewhere — that reloads itself every few seconds.
/// </summary>
internal static class StatusPage
{
    public const int RefreshSeconds = 5;

    /// <summary>End of support closer than this is shown as a warning.</summary>
    private const int EndOfSupportWarningDays = 180;

    private const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em 2em;color:#222}h1{font-size:1.5em;margin:0 0 .2em}
        h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{font-size:1em;margin:1.2em 0 .4em}
        table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #d6d6d6;padding:.3em .6em;text-align:left;vertical-align:top}
        th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}.meta{color:#555}
        .badge{display:inline-block;padding:0 .5em;border-radius:.7em;font-size:.9em}
        .ok,.running,.ready{background:#e6f4ea}.busy,.starting,.warn{background:#fff4d6}.bad,.failed{background:#fce8e6}
        .draining,.stopping,.stopped,.na{background:#eee;color:#666}pre{background:#fafafa;border:1px solid #eee;padding:.5em;overflow:auto;max-height:20em}
        table.slo td{text-align:right;white-space:nowrap}table.slo td:first-child{text-align:left}
        """;

    public static string Render(StatusReport status, SloReport slo, DateTimeOffset now)
    {
        var html = new StringBuilder(16 * 1024);
        var host = status.Host;
        html.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{RefreshSeconds}">
            <meta name="viewport" content="width=device-width, initial-scale=1"><title>PyPE.Exec status ({E(host.Environment)})</title>
            <style>{Style}</style></head><body>
            <h1>PyPE.Exec <span class="badge na">{E(host.Environment)}</span></h1>
            <p class="meta">version {E(host.Version)} · pid {host.Pid} · up {Duration(host.UptimeSeconds)} · memory {Bytes(host.MemoryBytes)} ·
            apps from {E(host.AppsDirectory)} · as of {now:yyyy-MM-dd HH:mm:ss} UTC, refreshed every {RefreshSeconds} s</p>
            """);
        if (host.SloLedgerError is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"bad\" id=\"ledger-error\">{E(host.SloLedgerError)}</p>");
        }

        AppendRuntimes(html, status, now);
        AppendApps(html, status);
        AppendRejected(html, status);
        html.Append("<h2 id=\"slo\">Service level objectives</h2>");
        SloHtml.AppendTable(html, slo);
        html.Append("""
            <p class="meta">Machine-readable: <a href="/status">/status</a> (JSON), <a href="/slo">/slo</a>, <a href="/metrics">/metrics</a>, <a href="/healthz">/healthz</a></p>
            </body></html>

            """);
        return html.ToString();
    }

    private static void AppendRuntimes(StringBuilder html, StatusReport status, DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        html.Append("<h2 id=\"runtimes\">Platform versions</h2><table><tr><th>Id</th><th>Python</th><th>Interpreter</th><th>Origin</th><th>End of support</th><th>Apps</th><th>Status</th></tr>");
        foreach (var runtime in status.Runtimes)
        {
            var apps = status.Apps.Count(a => a.Runtime == runtime.Id);
            var (support, css) = runtime.EndOfSupport is { } end
                ? ($"{end:yyyy-MM-dd} ({DaysLeft(end.DayNumber - today.DayNumber)})", end.DayNumber < today.DayNumber ? "bad" : end.DayNumber - today.DayNumber < EndOfSupportWarningDays ? "warn" : "ok")
                : ("unknown", "na");
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr data-runtime="{E(runtime.Id)}"><td>{E(runtime.Id)}</td><td>{E(runtime.Version ?? "?")}</td><td>{E(runtime.Python)}</td><td>{E(runtime.Origin)}</td>
                <td class="{css}">{support}</td><td class="n">{apps}</td><td>{(runtime.Error is null ? "usable" : "<span class=\"bad\">" + E(runtime.Error) + "</span>")}</td></tr>
                """);
        }

        html.Append("</table>");
    }

    private static void AppendApps(StringBuilder html, StatusReport status)
    {
        html.Append("<h2 id=\"apps\">Apps</h2>");
        if (status.Apps.Count == 0)
        {
            html.Append("<p class=\"meta\">No apps are running.</p>");
            return;
        }

        html.Append("<table><tr><th>App</th><th>State</th><th>Platform version</th><th>Route</th><th>Workers (ready / all, min–max)</th><th>Queue</th><th>Spawns</th><th>Restarts</th></tr>");
        foreach (var app in status.Apps)
        {
            var ready = app.Workers.Count(w => w.State is "ready" or "busy");
            var restarts = app.Restarts.Where(r => r.Value > 0).Select(r => $"{E(r.Key)} {r.Value}").DefaultIfEmpty("none");
            var route = (app.PathPrefix.Length == 0 ? "/" : app.PathPrefix) + (app.Hosts.Count > 0 ? " on " + string.Join(", ", app.Hosts) : "");
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr data-app="{E(app.Name)}"><td><a href="#app-{E(app.Name)}">{E(app.Name)}</a></td><td><span class="badge {E(app.State)}">{E(app.State)}</span></td>
                <td>{E(app.Runtime)} ({E(app.RuntimeVersion ?? "?")})</td><td>{E(route)}</td><td class="n">{ready} / {app.Workers.Count} ({app.MinWorkers}–{app.MaxWorkers})</td>
                <td class="n">{app.QueueLength} / {app.MaxQueue}</td><td class="n">{app.WorkerSpawns}</td><td>{string.Join(", ", restarts)}</td></tr>
                """);
        }

        html.Append("</table>");
        foreach (var app in status.Apps)
        {
            AppendApp(html, app);
        }
    }

    private static void AppendApp(StringBuilder html, AppStatus app)
    {
        html.Append(CultureInfo.InvariantCulture, $"<section class=\"app\" id=\"app-{E(app.Name)}\"><h3>{E(app.Name)}</h3>");
        if (app.DeployError is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"bad\">Last deploy failed; the previous version keeps serving:</p><pre>{E(app.DeployError)}</pre>");
        }

        if (app.LastError is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<details{(app.State == "failed" ? " open" : "")}><summary>Last start error</summary><pre>{E(app.LastError)}</pre></details>");
        }

        if (app.Workers.Count == 0)
        {
            html.Append("<p class=\"meta\">No worker processes.</p>");
        }
        else
        {
            AppendWorkers(html, app);
        }

        if (app.RecentRestarts.Count > 0)
        {
            html.Append("<table class=\"restarts\"><tr><th>When (UTC)</th><th>Worker</th><th>Pid</th><th>Reason</th><th>Detail</th></tr>");
            foreach (var restart in app.RecentRestarts.OrderByDescending(r => r.At))
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{restart.At:yyyy-MM-dd HH:mm:ss}</td><td>{E(restart.WorkerId)}</td><td class=\"n\">{restart.Pid}</td><td>{E(restart.Reason)}</td><td>{E(restart.Detail ?? "")}</td></tr>");
            }

            html.Append("</table>");
        }

        html.Append("</section>");
    }

    private static void AppendWorkers(StringBuilder html, AppStatus app)
    {
        html.Append("<table class=\"workers\"><tr><th>Worker</th><th>Pid</th><th>State</th><th>Requests</th><th>In hand</th><th>Memory</th><th>Uptime</th><th>Leaving because</th></tr>");
        foreach (var worker in app.Workers)
        {
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr data-worker="{E(worker.Id)}"><td>{E(worker.Id)}</td><td class="n">{worker.Pid}</td><td><span class="badge {E(worker.State)}">{E(worker.State)}</span></td>
                <td class="n">{worker.RequestsServed}</td><td class="n">{worker.InFlight}</td><td class="n">{Bytes(worker.MemoryBytes)}</td><td class="n">{Duration(worker.UptimeSeconds)}</td>
                <td>{E(worker.RecycleReason ?? "")}</td></tr>
                """);
        }

        html.Append("</table>");
    }

    private static void AppendRejected(StringBuilder html, StatusReport status)
    {
        if (status.RejectedApps.Count == 0)
        {
            return;
        }

        html.Append("<h2 id=\"rejected\">Rejected app files</h2><table><tr><th>File</th><th>Problems</th></tr>");
        foreach (var (file, errors) in status.RejectedApps)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr class=\"bad\"><td>{E(file)}</td><td>{string.Join("<br>", errors.Select(E))}</td></tr>");
        }

        html.Append("</table>");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string DaysLeft(int days) => days switch
    {
        < 0 => $"{-days} days ago",
        0 => "today",
        _ => $"in {days} days",
    };

    private static string Bytes(long bytes) => bytes switch
    {
        <= 0 => "—",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
    };

    private static string Duration(double seconds)
    {
        var span = TimeSpan.FromSeconds(seconds);
        return span.TotalDays >= 1 ? $"{(int)span.TotalDays} d {span.Hours} h"
            : span.TotalHours >= 1 ? $"{(int)span.TotalHours} h {span.Minutes} min"
            : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
            : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} s");
    }
}
