using System.Globalization;
using Microsoft.Playwright;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Admin;

/// <summary>The operator status page, opened in headless Chromium.</summary>
public sealed class StatusPageTests
{
    /// <summary>Where the screenshot of the last run goes (the one in docs/ is a copy of it).</summary>
    private static readonly string Screenshot = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "artifacts", "status-page.png"));

    [Fact(Timeout = 120_000)]
    public async Task StatusPage_ShowsVersionsAppsWorkersRestartsAndSlos_WithoutExternalAssets_AndRefreshesItself()
    {
        var web = new TestApp("web") { Pool = new() { ["minWorkers"] = 2, ["maxWorkers"] = 2 } };
        var broken = new TestApp("broken") { Env = new() { ["TESTAPP_CRASH_ON_START"] = "1" } };
        await using var host = await TestHost.StartAsync([web, broken], ["--PyPE:Restarts:BreakerThreshold=2"],
            rawAppFiles: [("typo", """{ "runtime": "system", "wsgi": "x:y", "route": { "pathPrefix": "/t" }, "pool": { "maxWorkers": "many" } }""")]);
        await host.WaitForReadyWorkersAsync("web", 2);
        for (var i = 0; i < 5; i++)
        {
            using var served = await host.Client.GetAsync("/apps/web/health");
        }

        var killed = (await host.ReadyPidsAsync("web"))[0];
        using (var victim = System.Diagnostics.Process.GetProcessById(killed))
        {
            victim.Kill();
        }

        await Wait.UntilAsync(async () => (await host.AppStatusAsync("broken")).GetProperty("state").GetString() == "failed", TimeSpan.FromSeconds(30), "the broken app is failed");
        await Wait.UntilAsync(async () => (await host.AppStatusAsync("web")).GetProperty("recentRestarts").GetArrayLength() == 1, TimeSpan.FromSeconds(30), "the crash is recorded");
        await host.WaitForReadyWorkersAsync("web", 2);
        var pids = await host.ReadyPidsAsync("web");

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var requested = new List<string>();
        page.Request += (_, request) => requested.Add(request.Url);
        var adminRoot = host.Admin.BaseAddress!.ToString();
        var response = await page.GotoAsync(adminRoot);

        Assert.Equal(200, response!.Status);
        Assert.StartsWith("PyPE.Exec status", await page.TitleAsync(), StringComparison.Ordinal);
        // Platform versions with their end of support.
        var system = await page.InnerTextAsync("tr[data-runtime=system]");
        Assert.Matches(@"3\.\d+\.\d+", system);
        Assert.Matches(@"\d{4}-\d{2}-\d{2} \((in \d+ days|today|\d+ days ago)\)", system);
        // Apps and their states, each worker with its pid, the recent restart, the failed app's traceback.
        Assert.Contains("running", await page.InnerTextAsync("tr[data-app=web]"), StringComparison.Ordinal);
        Assert.Contains("failed", await page.InnerTextAsync("tr[data-app=broken]"), StringComparison.Ordinal);
        var workerRows = await page.Locator("#app-web table.workers tr[data-worker]").AllInnerTextsAsync();
        Assert.Equal(2, workerRows.Count);
        foreach (var pid in pids)
        {
            Assert.Contains(workerRows, row => row.Contains(pid.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }

        var restarts = await page.InnerTextAsync("#app-web table.restarts");
        Assert.Contains("crash", restarts, StringComparison.Ordinal);
        Assert.Contains(killed.ToString(CultureInfo.InvariantCulture), restarts, StringComparison.Ordinal);
        Assert.Contains("RuntimeError", await page.InnerTextAsync("#app-broken details pre"), StringComparison.Ordinal);
        // Rejected files, and the SLO table.
        Assert.Contains("pool.maxWorkers", await page.InnerTextAsync("#rejected + table"), StringComparison.Ordinal);
        var slo = await page.InnerTextAsync("table.slo");
        Assert.Contains("Availability of the execution environment", slo, StringComparison.Ordinal);
        Assert.Matches(@"98\.76\s?%", slo);

        Directory.CreateDirectory(Path.GetDirectoryName(Screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot, FullPage = true });

        // Self-contained: the page asked for nothing but itself.
        Assert.Equal([adminRoot], requested);

        // It reloads itself.
        var reloaded = page.WaitForRequestAsync(adminRoot, new PageWaitForRequestOptions { Timeout = 20_000 });
        await reloaded;
    }
}
