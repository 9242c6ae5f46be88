using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using PyPE.Host.Slo;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Slo;

public sealed class SloEndpointTests
{
    [Fact(Timeout = 60_000)]
    public async Task Slo_ReportsAvailabilityAndLatency_CountingOnlyThePlatformsFailures()
    {
        await using var host = await TestHost.StartAsync([new TestApp("slo") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["maxQueue"] = 0 } }]);
        await host.WaitForReadyWorkersAsync("slo", 1);
        for (var i = 0; i < 7; i++)
        {
            using var ok = await host.Client.GetAsync("/apps/slo/health");
        }

        for (var i = 0; i < 2; i++)
        {
            using var appError = await host.Client.GetAsync("/apps/slo/exception");
        }

        var busy = host.Client.GetAsync("/apps/slo/slow?ms=800");
        await Wait.UntilAsync(async () => (await host.AppStatusAsync("slo")).GetProperty("workers")[0].GetProperty("inFlight").GetInt32() == 1,
            TimeSpan.FromSeconds(10), "the worker is busy");
        using (var refused = await host.Client.GetAsync("/apps/slo/health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        using (await busy)
        {
        }

        var report = JsonDocument.Parse(await host.Admin.GetStringAsync("/slo")).RootElement;
        var availability = Objective(report, "availability").GetProperty("windows").GetProperty("1h");
        Assert.Equal(11, availability.GetProperty("total").GetInt64());
        Assert.Equal(10, availability.GetProperty("good").GetInt64());
        Assert.Equal(10.0 / 11, availability.GetProperty("value").GetDouble(), 6);
        Assert.False(availability.GetProperty("met").GetBoolean());
        var latency = Objective(report, "latency").GetProperty("windows").GetProperty("30d");
        Assert.Equal(11, latency.GetProperty("total").GetInt64());
        Assert.Equal(11, latency.GetProperty("good").GetInt64());
        Assert.True(latency.GetProperty("met").GetBoolean());
        Assert.Equal("not_measured", Objective(report, "batch_availability").GetProperty("kind").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task DuringPlannedMaintenance_RequestsAreReportedApart_NotCountedAgainstTheObjectives()
    {
        await using var host = await TestHost.StartAsync([new TestApp("maint")], ["--PyPE:Slo:Maintenance:0=daily 00:00-24:00", "--PyPE:Slo:TimeZone=UTC"]);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await host.Client.GetAsync("/apps/maint/health");
        }

        using (var failed = await host.Client.GetAsync("/apps/maint/status/503"))
        {
        }

        var metrics = await host.Admin.GetStringAsync("/metrics");
        Assert.Contains("pype_maintenance{environment=\"TEST\"} 1", metrics, StringComparison.Ordinal);
        var report = JsonDocument.Parse(await host.Admin.GetStringAsync("/slo")).RootElement;
        var availability = Objective(report, "availability").GetProperty("windows").GetProperty("1h");
        Assert.Equal(0, availability.GetProperty("total").GetInt64());
        Assert.Equal(60, availability.GetProperty("maintenanceMinutes").GetInt64());
        var maintenance = availability.GetProperty("maintenance");
        Assert.Equal(4, maintenance.GetProperty("total").GetInt64());
        Assert.Equal(4, maintenance.GetProperty("good").GetInt64());
    }

    [Fact(Timeout = 60_000)]
    public async Task BadMaintenanceSettings_RefuseToStart_NamingEachKey()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync([], ["--PyPE:Slo:Maintenance:0=4th Tusday 17:00-19:00", "--PyPE:Slo:TimeZone=Mars/Olympus"]));
        var text = error.ToString();
        Assert.Contains("PyPE:Slo:Maintenance:0: '4th Tusday 17:00-19:00': 'Tusday' is not a day of the week", text, StringComparison.Ordinal);
        Assert.Contains("PyPE:Slo:TimeZone: 'Mars/Olympus'", text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Slo_AsHtml_ForABrowser()
    {
        await using var host = await TestHost.StartAsync([new TestApp("slohtml")]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/slo");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));

        using var response = await host.Admin.SendAsync(request);

        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Key metrics", html, StringComparison.Ordinal);
        Assert.Contains("98.76", html, StringComparison.Ordinal);
        Assert.Contains("Web requests answered in under 2 s", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://127.0.0.1", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.9, 1000L, 1000L, 1.0)]
    [InlineData(0.9, 950L, 1000L, 0.5)]
    [InlineData(0.9, 900L, 1000L, 0.0)]
    [InlineData(0.9, 800L, 1000L, -1.0)]
    public void ErrorBudgetRemaining_IsTheShareOfAllowedFailuresNotYetSpent(double target, long good, long total, double expected) =>
        Assert.Equal(expected, SloReportBuilder.ErrorBudgetRemaining(target, good, total)!.Value, 6);

    private static JsonElement Objective(JsonElement report, string id) =>
        report.GetProperty("objectives").EnumerateArray().Single(o => o.GetProperty("id").GetString() == id);
}
