using System.Net;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Hosting;

/// <summary>Bad app files are reported with file and key and stop nothing else; the directory is watched.</summary>
public sealed class AppsDirectoryTests
{
    [Fact(Timeout = 60_000)]
    public async Task BadAppFile_IsReportedWithFileAndKey_AndTheOtherAppsServe()
    {
        var bad = """
            {
              "runtime": "system",
              "root": "/nonexistent/folder",
              "wsgi": "testapp.app:application",
              "route": { "pathPrefix": "/apps/bad" },
              "pool": { "maxWorkers": "eight", "maxWorker": 3 }
            }
            """;
        await using var host = await TestHost.StartAsync([new TestApp("good")], rawAppFiles: [("bad", bad), ("broken-json", "{ \"runtime\": ")]);

        using var good = await host.Client.GetAsync("/apps/good/health");
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        using var missing = await host.Client.GetAsync("/apps/bad/health");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        var rejected = (await host.StatusAsync()).GetProperty("rejectedApps");
        var errors = rejected.GetProperty("bad").EnumerateArray().Select(e => e.GetString()!).ToList();
        var file = Path.Combine(host.AppsDirectory, "bad.json");
        Assert.Contains(errors, e => e.StartsWith(file, StringComparison.Ordinal) && e.Contains("'pool.maxWorkers'", StringComparison.Ordinal) && e.Contains("\"eight\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'pool.maxWorker'", StringComparison.Ordinal) && e.Contains("did you mean 'maxWorkers'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'root'", StringComparison.Ordinal) && e.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(rejected.GetProperty("broken-json").EnumerateArray(), e => e.GetString()!.Contains("not valid JSON", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task UnknownRuntime_IsReported_WithTheKnownOnes()
    {
        await using var host = await TestHost.StartAsync([new TestApp("ok"), new TestApp("nort") { Runtime = "no-such-python" }]);
        var errors = (await host.StatusAsync()).GetProperty("rejectedApps").GetProperty("nort").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains("'runtime'", StringComparison.Ordinal) && e.Contains("unknown platform version 'no-such-python'", StringComparison.Ordinal) && e.Contains("system", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task AddedChangedAndRemovedAppFiles_AreAppliedWhileRunning()
    {
        await using var host = await TestHost.StartAsync([new TestApp("first")]);
        await host.WaitForReadyWorkersAsync("first", 1);

        // Added.
        await File.WriteAllTextAsync(Path.Combine(host.AppsDirectory, "second.json"), new TestApp("second").ToJson());
        await Wait.UntilAsync(async () => (await host.Client.GetAsync("/apps/second/health")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(20), "the added app serves");

        // Changed: a new pool replaces the old one once ready; no request fails meanwhile.
        var oldPids = await host.ReadyPidsAsync("first");
        await File.WriteAllTextAsync(Path.Combine(host.AppsDirectory, "first.json"), new TestApp("first") { Env = new() { ["VERSION"] = "2" } }.ToJson());
        await Wait.UntilAsync(async () =>
        {
            using var response = await host.Client.GetAsync("/apps/first/pid");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return !oldPids.Contains(int.Parse(await response.Content.ReadAsStringAsync(), System.Globalization.CultureInfo.InvariantCulture));
        }, TimeSpan.FromSeconds(20), "the changed app is served by new workers");

        // Broken edit: reported, and the last good version keeps serving.
        await File.WriteAllTextAsync(Path.Combine(host.AppsDirectory, "first.json"), "{ \"runtime\": 42 }");
        await Wait.UntilAsync(async () => (await host.StatusAsync()).GetProperty("rejectedApps").TryGetProperty("first", out _),
            TimeSpan.FromSeconds(20), "the broken edit is reported");
        using (var stillServing = await host.Client.GetAsync("/apps/first/health"))
        {
            Assert.Equal(HttpStatusCode.OK, stillServing.StatusCode);
        }

        // Removed.
        File.Delete(Path.Combine(host.AppsDirectory, "second.json"));
        await Wait.UntilAsync(async () => (await host.Client.GetAsync("/apps/second/health")).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(20), "the removed app is gone");
    }

    [Fact(Timeout = 60_000)]
    public async Task ChangedAppThatFailsToStart_KeepsTheOldVersionServing()
    {
        await using var host = await TestHost.StartAsync([new TestApp("steady")], ["--PyPE:Restarts:BreakerThreshold=2"]);
        await host.WaitForReadyWorkersAsync("steady", 1);
        var pids = await host.ReadyPidsAsync("steady");

        await File.WriteAllTextAsync(Path.Combine(host.AppsDirectory, "steady.json"),
            new TestApp("steady") { Env = new() { ["TESTAPP_CRASH_ON_START"] = "1" } }.ToJson());

        // The failed replacement is thrown away and reported; the same workers keep answering.
        await Wait.UntilAsync(async () => (await host.AppStatusAsync("steady")).GetProperty("deployError").GetString() is { } error
            && error.Contains("RuntimeError", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the failed deploy is reported");
        for (var i = 0; i < 10; i++)
        {
            using var response = await host.Client.GetAsync("/apps/steady/pid");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(pids, await host.ReadyPidsAsync("steady"));
        Assert.Equal("running", (await host.AppStatusAsync("steady")).GetProperty("state").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task MissingAppsDirectory_RefusesToStart_NamingTheKey()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync([], ["--PyPE:AppsDirectory=/nonexistent/apps.d"]));
        Assert.Contains("PyPE:AppsDirectory", error.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task UnknownHostKeys_RefuseToStart_ListingEveryOne()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync([], ["--PyPE:AppDirectory=/x", "--PyPE:Restarts:Threshold=3", "--PyPE:Environment=LIVE"]));
        var text = error.ToString();
        Assert.Contains("PyPE:AppDirectory", text, StringComparison.Ordinal);
        Assert.Contains("PyPE:Restarts:Threshold", text, StringComparison.Ordinal);
        Assert.Contains("'LIVE' is not one of TEST, QUAL, BETA, PROD", text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestsQueuedDuringADeploy_AreServedByTheNewVersion_NotRefused()
    {
        await using var host = await TestHost.StartAsync([new TestApp("swap") { Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["maxQueue"] = 20 } }]);
        await host.WaitForReadyWorkersAsync("swap", 1);
        var oldPid = (await host.ReadyPidsAsync("swap"))[0];

        var requests = Enumerable.Range(0, 6).Select(_ => host.Client.GetAsync("/apps/swap/slow?ms=400")).ToList();
        await Wait.UntilAsync(async () => (await host.AppStatusAsync("swap")).GetProperty("queueLength").GetInt32() >= 3,
            TimeSpan.FromSeconds(10), "requests are queued");
        await File.WriteAllTextAsync(Path.Combine(host.AppsDirectory, "swap.json"),
            new TestApp("swap") { Env = new() { ["VERSION"] = "2" }, Pool = new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["maxQueue"] = 20 } }.ToJson());

        var responses = await Task.WhenAll(requests);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var pids = new HashSet<int>();
        foreach (var response in responses)
        {
            pids.Add(System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("pid").GetInt32());
            response.Dispose();
        }

        Assert.Contains(oldPid, pids);
        Assert.True(pids.Count == 2, "some requests were served by the old version, the rest by the new one");
    }

    [Fact(Timeout = 60_000)]
    public async Task UnreadableHostValue_RefusesToStart_NamingTheKey()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync([], ["--PyPE:Restarts:InitialDelay=soon"]));
        Assert.Contains("'soon' at 'PyPE:Restarts:InitialDelay'", error.ToString(), StringComparison.Ordinal);
    }
}
