using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PyPE.Host.Cli;

/// <summary>
/// <c>PyPE.Host status [--admin URL]</c>: the operator's status view for a terminal — apps, platform versions,
/// workers and the SLO table — read from a running host's admin listener (<c>/status</c> and <c>/slo</c>).
/// </summary>
internal static class StatusCommand
{
    public const string Name = "status";

    private static readonly string[] RuntimeColumns = ["id", "python", "end of support", "path / error"];
    private static readonly string[] WorkerColumns = ["worker", "pid", "state", "requests", "in hand", "memory", "uptime"];
    private static readonly string[] SloColumns = ["objective", "target", "1h", "1d", "30d"];
    private static readonly string[] SloWindows = ["1h", "1d", "30d"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors)
    {
        var admin = "http://127.0.0.1:9180";
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] is "--admin" && i + 1 < args.Length)
            {
                admin = args[++i];
            }
            else
            {
                await errors.WriteLineAsync($"usage: PyPE.Host status [--admin URL]   (unknown argument '{args[i]}')");
                return 2;
            }
        }

        using var client = new HttpClient { BaseAddress = new Uri(admin), Timeout = TimeSpan.FromSeconds(10) };
        JsonElement status, slo;
        try
        {
            status = JsonDocument.Parse(await client.GetStringAsync("/status")).RootElement;
            slo = JsonDocument.Parse(await client.GetStringAsync("/slo")).RootElement;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            await errors.WriteLineAsync($"cannot read the host's status from {admin}: {ex.Message}");
            return 1;
        }

        await output.WriteAsync(Render(status, slo));
        return 0;
    }

    internal static string Render(JsonElement status, JsonElement slo)
    {
        var text = new StringBuilder();
        var host = status.GetProperty("host");
        text.AppendLine(CultureInfo.InvariantCulture, $"PyPE.Exec {host.GetProperty("version").GetString()} · {host.GetProperty("environment").GetString()} · pid {host.GetProperty("pid").GetInt32()} · up {Duration(host.GetProperty("uptimeSeconds").GetDouble())} · {Mib(host.GetProperty("memoryBytes").GetInt64())}");
        text.AppendLine();
        text.AppendLine("PLATFORM VERSIONS");
        var runtimes = new List<string[]> { RuntimeColumns };
        foreach (var runtime in status.GetProperty("runtimes").EnumerateArray())
        {
            runtimes.Add([
                runtime.GetProperty("id").GetString()!,
                runtime.GetProperty("version").GetString() ?? "?",
                runtime.GetProperty("endOfSupport").GetString() ?? "-",
                runtime.GetProperty("error").GetString() ?? runtime.GetProperty("python").GetString()!,
            ]);
        }

        Table(text, runtimes);
        foreach (var app in status.GetProperty("apps").EnumerateArray())
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"APP {app.GetProperty("name").GetString()} · {app.GetProperty("state").GetString()} · python {app.GetProperty("runtime").GetString()} ({app.GetProperty("runtimeVersion").GetString()}) · route {Route(app)} · queue {app.GetProperty("queueLength").GetInt32()}/{app.GetProperty("maxQueue").GetInt32()}");
            if (app.GetProperty("lastError").GetString() is { } lastError)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  last error: {lastError.TrimEnd().Split('\n')[^1]}");
            }

            var workers = new List<string[]> { WorkerColumns };
            foreach (var worker in app.GetProperty("workers").EnumerateArray())
            {
                workers.Add([
                    worker.GetProperty("id").GetString()!,
                    worker.GetProperty("pid").GetInt32().ToString(CultureInfo.InvariantCulture),
                    worker.GetProperty("state").GetString()!,
                    worker.GetProperty("requestsServed").GetInt64().ToString(CultureInfo.InvariantCulture),
                    worker.GetProperty("inFlight").GetInt32().ToString(CultureInfo.InvariantCulture),
                    Mib(worker.GetProperty("memoryBytes").GetInt64()),
                    Duration(worker.GetProperty("uptimeSeconds").GetDouble()),
                ]);
            }

            Table(text, workers, indent: "  ");
            foreach (var restart in app.GetProperty("recentRestarts").EnumerateArray().Reverse().Take(3))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  restarted {restart.GetProperty("at").GetDateTimeOffset():yyyy-MM-dd HH:mm:ss} {restart.GetProperty("workerId").GetString()}: {restart.GetProperty("reason").GetString()} {restart.GetProperty("detail").GetString()}");
            }
        }

        foreach (var rejected in status.GetProperty("rejectedApps").EnumerateObject())
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"REJECTED APP FILE {rejected.Name}");
            foreach (var error in rejected.Value.EnumerateArray())
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {error.GetString()}");
            }
        }

        text.AppendLine();
        text.AppendLine("SERVICE LEVEL OBJECTIVES");
        var rows = new List<string[]> { SloColumns };
        foreach (var objective in slo.GetProperty("objectives").EnumerateArray())
        {
            var kind = objective.GetProperty("kind").GetString()!;
            var windows = objective.GetProperty("windows");
            rows.Add([
                objective.GetProperty("id").GetString()!,
                Value(kind, objective.GetProperty("target").GetDouble()),
                .. SloWindows.Select(w => windows.GetProperty(w).GetProperty("value") is { ValueKind: JsonValueKind.Number } v ? Value(kind, v.GetDouble()) : "-"),
            ]);
        }

        Table(text, rows);
        return text.ToString();
    }

    private static void Table(StringBuilder text, List<string[]> rows, string indent = "")
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            text.Append(indent).AppendLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        }
    }

    private static string Route(JsonElement app)
    {
        var prefix = app.GetProperty("pathPrefix").GetString();
        var hosts = app.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()).ToList();
        return (hosts.Count == 0 ? "*" : string.Join(",", hosts)) + (string.IsNullOrEmpty(prefix) ? "/" : prefix);
    }

    private static string Value(string kind, double value) =>
        kind == "per_minute" ? value.ToString("N0", CultureInfo.InvariantCulture) + "/min" : value.ToString("P2", CultureInfo.InvariantCulture);

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";

    private static string Duration(double seconds) => TimeSpan.FromSeconds(Math.Round(seconds)).ToString(seconds >= 86400 ? @"d\.hh\:mm\:ss" : @"hh\:mm\:ss", CultureInfo.InvariantCulture);
}
