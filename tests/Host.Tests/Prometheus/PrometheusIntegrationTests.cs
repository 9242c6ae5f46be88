using System.Text.Json;
using System.Text.RegularExpressions;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Prometheus;

/// <summary>A real Prometheus scraping a real host: its recorded SLIs, and the Grafana dashboard's queries.</summary>
public sealed partial class PrometheusIntegrationTests(ScrapedHostFixture fixture) : IClassFixture<ScrapedHostFixture>
{
    private static readonly string Dashboard = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "grafana", "pype-exec.dashboard.json"));

    [Fact(Timeout = 120_000)]
    public async Task RecordedSlis_EqualWhatTheHostReports_AndAKilledWorkerCostsOnlyItsFailedRequest()
    {
        var availability = await fixture.SloAsync("availability");
        var latency = await fixture.SloAsync("latency");
        var total = availability.GetProperty("total").GetInt64();
        var platformErrors = total - availability.GetProperty("good").GetInt64();

        // The host counted every answer the clients got, and exactly the platform failures they saw: the killed
        // worker's request in hand; nothing else (its replacement, the requests queued meanwhile) failed.
        Assert.Equal(fixture.RequestsSent, total);
        Assert.Equal(fixture.PlatformFailuresSeen, platformErrors);
        Assert.Equal(1, platformErrors);

        // Prometheus has scraped the final counts, then evaluated the recording rules over them.
        await Wait.UntilAsync(async () => await fixture.Prometheus.ScalarAsync("sum(pype_http_requests_total)") == total,
            TimeSpan.FromSeconds(30), "Prometheus has the final request count");
        var expectedAvailabilityErrors = (double)platformErrors / total;
        var expectedLatencyErrors = 1 - latency.GetProperty("value").GetDouble();
        Assert.True(expectedLatencyErrors > 0, "the slow requests missed the latency objective");
        await Wait.UntilAsync(async () =>
            Near(await fixture.Prometheus.ScalarAsync("pype:sli_availability_errors:ratio_rate5m"), expectedAvailabilityErrors)
            && Near(await fixture.Prometheus.ScalarAsync("pype:sli_latency_errors:ratio_rate5m"), expectedLatencyErrors),
            TimeSpan.FromSeconds(30), "the recorded SLIs settle on the host's own figures");

        Assert.Equal(platformErrors, await fixture.Prometheus.ScalarAsync("sum(pype_http_requests_total{status_class=\"5xx\",origin=\"host\"})"));
        Assert.Equal(6, await fixture.Prometheus.ScalarAsync("sum(pype_http_requests_total{status_class=\"5xx\",origin=\"app\"})"));
        Assert.Equal(1, await fixture.Prometheus.ScalarAsync("sum(pype_worker_restarts_total{app=\"sli\",reason=\"crash\"})"));
    }

    [Fact(Timeout = 120_000)]
    public async Task EveryDashboardExpression_IsValidPromQL_AndTheCoreOnesHaveData()
    {
        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Dashboard)).RootElement;
        var expressions = dashboard.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (Panel: p.GetProperty("title").GetString()!, Expr: t.GetProperty("expr").GetString()!)))
            .Concat(dashboard.GetProperty("annotations").GetProperty("list").EnumerateArray().Select(a => ("annotation", a.GetProperty("expr").GetString()!)))
            .ToList();
        Assert.True(expressions.Count >= 25, $"only {expressions.Count} expressions found");

        var empty = new List<string>();
        foreach (var (panel, expr) in expressions)
        {
            var data = await fixture.Prometheus.QueryAsync(Substitute(expr));
            if (data.GetProperty("result").GetArrayLength() == 0)
            {
                empty.Add($"{panel}: {expr}");
            }
        }

        // Grafana's label_values() is not PromQL: check the selector inside each template variable instead.
        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray().Where(v => v.GetProperty("type").GetString() == "query"))
        {
            var selector = LabelValues().Match(variable.GetProperty("definition").GetString()!);
            Assert.True(selector.Success, $"template variable {variable.GetProperty("name")} is not label_values(selector, label)");
            var data = await fixture.Prometheus.QueryAsync($"count by ({selector.Groups[2].Value}) ({Substitute(selector.Groups[1].Value)})");
            Assert.True(data.GetProperty("result").GetArrayLength() > 0, $"template variable {variable.GetProperty("name")} finds no values");
        }

        // Panels fed by traffic this host had must show it (the others, e.g. probes or maintenance, may be empty here).
        foreach (var core in (string[])["Availability (requests), 1 h", "Web requests under 2 s, 1 h", "Requests by app and status class", "Workers by state", "Throughput (requests per minute)"])
        {
            Assert.DoesNotContain(empty, e => e.StartsWith(core + ":", StringComparison.Ordinal));
        }
    }

    /// <summary>What Grafana would send: template variables and the rate interval replaced.</summary>
    private static string Substitute(string expr) => expr
        .Replace("$__rate_interval", "1m", StringComparison.Ordinal)
        .Replace("$environment", ".*", StringComparison.Ordinal)
        .Replace("$app", ".*", StringComparison.Ordinal);

    private static bool Near(double? actual, double expected) => actual is { } value && Math.Abs(value - expected) < 1e-6;

    [GeneratedRegex(@"^label_values\((.+),\s*(\w+)\)$")]
    private static partial Regex LabelValues();
}
