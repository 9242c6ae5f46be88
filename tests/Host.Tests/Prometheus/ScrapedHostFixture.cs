using System.Diagnostics;
using System.Net;
using System.Text.Json;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Prometheus;

/// <summary>
/// A host under a short, bounded load — fast and slow requests, the app's own 500s, unrouted 404s, and one
/// worker killed with a request in hand — scraped by a real Prometheus. What the clients saw is kept to
/// compare with what Prometheus and <c>/slo</c> recorded.
/// </summary>
public sealed class ScrapedHostFixture : IAsyncLifetime
{
    private const string App = "sli";

    internal TestHost Host { get; private set; } = null!;

    internal PrometheusServer Prometheus { get; private set; } = null!;

    /// <summary>Answers the clients got from the platform itself (502, 503, 504).</summary>
    public int PlatformFailuresSeen { get; private set; }

    /// <summary>Every answer the clients got.</summary>
    public int RequestsSent { get; private set; }

    public async Task InitializeAsync()
    {
        Host = await TestHost.StartAsync([new TestApp(App) { Pool = new() { ["minWorkers"] = 2, ["maxWorkers"] = 2, ["maxQueue"] = 100 } }]);
        await Host.WaitForReadyWorkersAsync(App, 2);
        Prometheus = await PrometheusServer.StartAsync(Host.Admin.BaseAddress!);

        await SendAsync(HttpMethod.Get, "/apps/sli/health", 60, parallel: 8);
        await SendAsync(HttpMethod.Get, "/apps/sli/exception", 6, parallel: 2);
        await SendAsync(HttpMethod.Get, "/nowhere", 4, parallel: 2);
        await SendAsync(HttpMethod.Get, "/apps/sli/slow?ms=2100", 2, parallel: 2);
        await KillAWorkerWithARequestInHandAsync();
        await SendAsync(HttpMethod.Get, "/apps/sli/health", 20, parallel: 4);
    }

    /// <summary>Two slow POSTs (not retried elsewhere: not idempotent), one per worker; one worker is killed.</summary>
    private async Task KillAWorkerWithARequestInHandAsync()
    {
        var posts = Enumerable.Range(0, 2).Select(_ => SendOneAsync(HttpMethod.Post, "/apps/sli/slow?ms=3000")).ToList();
        var busyPid = 0;
        await Wait.UntilAsync(async () =>
        {
            var workers = (await Host.AppStatusAsync(App)).GetProperty("workers").EnumerateArray().ToList();
            busyPid = workers.Where(w => w.GetProperty("inFlight").GetInt32() == 1).Select(w => w.GetProperty("pid").GetInt32()).FirstOrDefault();
            return workers.Count(w => w.GetProperty("inFlight").GetInt32() == 1) == 2;
        }, TimeSpan.FromSeconds(10), "both workers are busy");
        using (var victim = Process.GetProcessById(busyPid))
        {
            victim.Kill();
        }

        await Task.WhenAll(posts);
        await Host.WaitForReadyWorkersAsync(App, 2, TimeSpan.FromSeconds(20));
    }

    private async Task SendAsync(HttpMethod method, string path, int count, int parallel)
    {
        using var gate = new SemaphoreSlim(parallel);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                await SendOneAsync(method, path);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private async Task SendOneAsync(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        using var response = await Host.Client.SendAsync(request);
        lock (this)
        {
            RequestsSent++;
            if (response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
            {
                PlatformFailuresSeen++;
            }
        }
    }

    /// <summary>The host's own figure for <paramref name="objective"/> over the last hour.</summary>
    internal async Task<JsonElement> SloAsync(string objective)
    {
        var report = JsonDocument.Parse(await Host.Admin.GetStringAsync("/slo")).RootElement;
        return report.GetProperty("objectives").EnumerateArray().First(o => o.GetProperty("id").GetString() == objective).GetProperty("windows").GetProperty("1h");
    }

    public async Task DisposeAsync()
    {
        if (Prometheus is not null)
        {
            await Prometheus.DisposeAsync();
        }

        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
    }
}
