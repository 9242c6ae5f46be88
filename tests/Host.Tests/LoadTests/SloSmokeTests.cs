using System.Text.Json;
using Microsoft.Playwright;
using PyPE.Host.Tests.Infrastructure;
using PyPE.LoadTests;
using PyPE.LoadTests.Running;

namespace PyPE.Host.Tests.LoadTests;

/// <summary>
/// A short, bounded run of the SLO suite against the real host: the open-model runner, the thresholds and the
/// reports end to end, and the verdict on a deliberately slow app. Timing targets live in the suite itself,
/// not here: these runs are a few seconds at low rates.
/// </summary>
public sealed class SloSmokeTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("pype-loadtest-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact(Timeout = 120_000)]
    public async Task AHealthyApp_PassesEveryThreshold_AndTheReportsAreWritten_AndTheHtmlOneRendersInABrowser()
    {
        var assets = Directory.CreateDirectory(Path.Combine(_out, "assets")).FullName;
        await File.WriteAllTextAsync(Path.Combine(assets, "site.css"), "body { margin: 0 }\n");
        await using var host = await TestHost.StartAsync([new TestApp("fast")
        {
            Pool = new() { ["minWorkers"] = 2, ["maxWorkers"] = 2 },
            Static = new() { ["/apps/fast/static"] = assets },
        }]);
        await host.WaitForReadyWorkersAsync("fast", 2);
        var options = new LoadTestOptions
        {
            Target = host.Client.BaseAddress!,
            Scenarios = [new Scenario("health", RequestClass.Dynamic, "/apps/fast/health", 40), new Scenario("css", RequestClass.Static, "/apps/fast/static/site.css", 20)],
            Duration = TimeSpan.FromSeconds(3),
            RequestTimeout = TimeSpan.FromSeconds(5),
            OutputFolder = _out,
        };

        var report = await LoadTest.RunAsync(options, TextWriter.Null);

        Assert.True(report.Passed, ReportText(report));
        var health = report.Scenarios.Single(s => s.Scenario.Name == "health");
        Assert.Equal(120, health.Scheduled);
        Assert.Equal(120, health.Completed);
        Assert.Equal(0, health.Errors + health.Dropped);
        Assert.Equal(new Dictionary<int, long> { [200] = 60 }, report.Scenarios.Single(s => s.Scenario.Name == "css").Statuses);
        // 40 dynamic requests a second is 2,400 a minute: checked and held; 20 static a second is below the
        // 4,500 a minute target, so the run cannot tell.
        Assert.Contains(report.Thresholds, t => t.Id == "page_throughput" && t.Passed == true);
        Assert.Contains(report.Thresholds, t => t.Id == "static_throughput" && t.Passed == null);
        var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_out, "report.json"))).RootElement;
        Assert.Equal(4, json.GetProperty("thresholds").GetArrayLength());
        Assert.Equal(JsonValueKind.Object, json.GetProperty("scenarios")[0].GetProperty("startLagPercentilesMs").ValueKind);
        var markdown = await File.ReadAllTextAsync(Path.Combine(_out, "report.md"));
        Assert.Contains("# SLO load test: PASSED", markdown, StringComparison.Ordinal);
        Assert.Contains("| 200 × 120 |", markdown, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(Path.Combine(_out, "report.html"));
        Assert.Contains("aria-label=\"latency by percentile\"", html, StringComparison.Ordinal);
        Assert.Contains("aria-label=\"throughput and latency over time\"", html, StringComparison.Ordinal);
        Assert.Contains("<polyline", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        await AssertRendersInChromiumAsync(Path.Combine(_out, "report.html"), scenarios: 2);
    }

    [Fact(Timeout = 90_000)]
    public async Task ASlowApp_FailsTheLatencyThreshold()
    {
        await using var host = await TestHost.StartAsync([new TestApp("slow") { Pool = new() { ["minWorkers"] = 4, ["maxWorkers"] = 4 } }]);
        await host.WaitForReadyWorkersAsync("slow", 4);
        var options = new LoadTestOptions
        {
            Target = host.Client.BaseAddress!,
            Scenarios = [new Scenario("slow", RequestClass.Dynamic, "/apps/slow/slow?ms=2200", 2)],
            Duration = TimeSpan.FromSeconds(2),
            RequestTimeout = TimeSpan.FromSeconds(10),
            OutputFolder = _out,
        };

        var report = await LoadTest.RunAsync(options, TextWriter.Null);

        Assert.False(report.Passed);
        var latency = report.Thresholds.Single(t => t.Id == "latency");
        Assert.False(latency.Passed);
        Assert.Equal(0, latency.Value);
        Assert.True(report.Thresholds.Single(t => t.Id == "errors").Passed, "slow is not broken: no errors");
    }

    [Fact(Timeout = 90_000)]
    public async Task AnswersThatAreNotPages_AreErrors_AndFailTheRun()
    {
        await using var host = await TestHost.StartAsync([new TestApp("gone") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("gone", 1);
        var options = new LoadTestOptions
        {
            Target = host.Client.BaseAddress!,
            Scenarios = [new Scenario("missing", RequestClass.Static, "/apps/gone-static/none.css", 20)],
            Duration = TimeSpan.FromSeconds(1),
            RequestTimeout = TimeSpan.FromSeconds(5),
            OutputFolder = _out,
        };

        var report = await LoadTest.RunAsync(options, TextWriter.Null);

        Assert.False(report.Passed);
        var missing = report.Scenarios.Single();
        Assert.Equal(20, missing.Errors);
        Assert.Equal(new Dictionary<int, long> { [404] = 20 }, missing.Statuses);
        Assert.False(report.Thresholds.Single(t => t.Id == "errors").Passed);
        Assert.Contains("404 × 20", ReportText(report), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task CapacitySearch_StopsAtTheFirstStepThatBreaks_AndReportsTheOneBefore()
    {
        // One worker, 1.5 s per request: half a request a second fits; one a second queues past 2 s.
        await using var host = await TestHost.StartAsync([new TestApp("cap") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("cap", 1);
        var options = new LoadTestOptions
        {
            Target = host.Client.BaseAddress!,
            Scenarios = [new Scenario("slow", RequestClass.Dynamic, "/apps/cap/slow?ms=1500", 0.5)],
            Plan = LoadPlan.Capacity,
            StepDuration = TimeSpan.FromSeconds(4),
            MaxSteps = 5,
            RefineSteps = 0, // the halvings are CapacitySearchTests' (their margins would be tens of ms here)
            RequestTimeout = TimeSpan.FromSeconds(20),
            OutputFolder = _out,
        };

        var capacity = await LoadTest.SearchCapacityAsync(options, TextWriter.Null);

        Assert.Equal(2, capacity.Steps.Count);
        Assert.Equal(0.5, capacity.HighestHeld!.Scenarios[0].Scenario.RatePerSecond);
        Assert.False(capacity.Steps[1].Thresholds.Single(t => t.Id == "latency").Passed);
        Assert.True(File.Exists(Path.Combine(_out, "capacity.md")));
        Assert.True(File.Exists(Path.Combine(_out, "step-2", "report.html")));
    }

    [Fact(Timeout = 90_000)]
    public async Task AWarmUp_ReachesTheHost_ButIsNotCounted()
    {
        await using var host = await TestHost.StartAsync([new TestApp("warm") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1 } }]);
        await host.WaitForReadyWorkersAsync("warm", 1);
        var options = new LoadTestOptions
        {
            Target = host.Client.BaseAddress!,
            Scenarios = [new Scenario("health", RequestClass.Dynamic, "/apps/warm/health", 20)],
            Warmup = TimeSpan.FromSeconds(1),
            Duration = TimeSpan.FromSeconds(2),
            RequestTimeout = TimeSpan.FromSeconds(5),
            OutputFolder = _out,
        };

        var report = await LoadTest.RunAsync(options, TextWriter.Null);

        var health = report.Scenarios.Single();
        Assert.Equal(40, health.Scheduled);
        Assert.Equal(40, health.Completed);
        Assert.Equal(1, report.WarmupSeconds);
        Assert.Contains("after 1 s of warm-up (not counted)", ReportText(report), StringComparison.Ordinal);
        // The worker saw the warm-up's 20 requests as well as the run's 40.
        var served = (await host.AppStatusAsync("warm")).GetProperty("workers").EnumerateArray().Sum(w => w.GetProperty("requestsServed").GetInt64());
        Assert.Equal(60, served);
    }

    [Theory]
    [InlineData(new[] { "--sla-scale", "0" }, "--sla-scale: '0' is not a positive number")]
    [InlineData(new[] { "--scenario", "x=fast:/a@1" }, "'fast' is not a class")]
    [InlineData(new[] { "--scenario", "x=static:a@1" }, "must start with '/'")]
    [InlineData(new[] { "--duration" }, "--duration: a value is missing")]
    [InlineData(new[] { "--warmup", "soon" }, "--warmup: 'soon' is not a positive number of seconds")]
    [InlineData(new string[0], "no scenario")]
    public void BadOptions_SayWhatIsWrong(string[] args, string expected)
    {
        var (options, error) = LoadTestOptions.Parse(args);
        Assert.Null(options);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    /// <summary>Where the screenshot of the last run goes (docs/loadtest-report.png is a copy of one from a full run).</summary>
    private static readonly string Screenshot = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "artifacts", "loadtest-report.png"));

    /// <summary>
    /// Opens the report in headless Chromium: it asks for nothing but itself, logs no error, and its two charts
    /// are drawn — a line per scenario in the percentile plot, two (rate, p90) in the timeline, each with a visible
    /// length and inside its chart's frame.
    /// </summary>
    private static async Task AssertRendersInChromiumAsync(string reportPath, int scenarios)
    {
        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var requested = new List<string>();
        var errors = new List<string>();
        page.Request += (_, request) => requested.Add(request.Url);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        var url = new Uri(reportPath).AbsoluteUri;

        await page.GotoAsync(url);

        Assert.Equal("SLO load test: passed", await page.TitleAsync());
        Assert.Equal(4, await page.Locator("h2:text('Thresholds') + table tr td:last-child").CountAsync());
        var charts = await page.EvaluateAsync<JsonElement>("""
            () => [...document.querySelectorAll('svg')].map(svg => {
              const frame = svg.querySelector('rect').getBBox();
              const box = svg.getBoundingClientRect();
              return {
                label: svg.getAttribute('aria-label'), width: box.width, height: box.height,
                lines: [...svg.querySelectorAll('polyline')].map(line => {
                  const b = line.getBBox();
                  return {
                    points: line.points.numberOfItems, length: line.getTotalLength(),
                    inside: b.x >= frame.x - 0.5 && b.y >= frame.y - 0.5
                      && b.x + b.width <= frame.x + frame.width + 0.5 && b.y + b.height <= frame.y + frame.height + 0.5,
                  };
                }),
              };
            })
            """);
        Assert.Equal(["latency by percentile", "throughput and latency over time"], charts.EnumerateArray().Select(c => c.GetProperty("label").GetString()));
        foreach (var chart in charts.EnumerateArray())
        {
            var label = chart.GetProperty("label").GetString();
            Assert.True(chart.GetProperty("width").GetDouble() > 300 && chart.GetProperty("height").GetDouble() > 150, $"{label}: drawn at a readable size");
            var lines = chart.GetProperty("lines").EnumerateArray().ToList();
            Assert.Equal(label == "latency by percentile" ? scenarios : 2 * scenarios, lines.Count);
            Assert.All(lines, line =>
            {
                Assert.True(line.GetProperty("points").GetInt32() >= 2, $"{label}: a line has points");
                Assert.True(line.GetProperty("length").GetDouble() > 10, $"{label}: a line has a visible length");
                Assert.True(line.GetProperty("inside").GetBoolean(), $"{label}: a line stays inside the chart's frame");
            });
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot, FullPage = true });
        Assert.Empty(errors);
        Assert.Equal([url], requested);
    }

    private static string ReportText(PyPE.LoadTests.Reporting.RunReport report) => PyPE.LoadTests.Reporting.ReportWriter.Markdown(report);
}
