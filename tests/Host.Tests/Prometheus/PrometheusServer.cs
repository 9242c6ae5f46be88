using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Prometheus;

/// <summary>
/// A real Prometheus (Debian's package) on loopback, scraping one host's admin listener every second and
/// evaluating the repository's rules every second; queried through its HTTP API.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    public static readonly string RulesFolder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "prometheus"));

    private readonly Process _process;
    private readonly string _folder;

    private PrometheusServer(Process process, string folder, HttpClient client)
    {
        _process = process;
        _folder = folder;
        Client = client;
    }

    public HttpClient Client { get; }

    public static async Task<PrometheusServer> StartAsync(Uri target)
    {
        var folder = Directory.CreateTempSubdirectory("pype-prom-").FullName;
        var port = FreePort();
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files:
              - {Path.Combine(RulesFolder, "pype-rules.yml")}
            scrape_configs:
              - job_name: pype
                static_configs:
                  - targets: ['{target.Authority}']
            """);
        var start = new ProcessStartInfo("prometheus")
        {
            ArgumentList =
            {
                $"--config.file={config}",
                $"--storage.tsdb.path={Path.Combine(folder, "data")}",
                $"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var server = new PrometheusServer(process, folder, client);
        try
        {
            await Wait.UntilAsync(async () =>
            {
                try
                {
                    using var ready = await client.GetAsync("/-/ready");
                    return ready.StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30), "Prometheus is ready");
            await Wait.UntilAsync(async () => await ScalarAsync(server, "sum(up{job=\"pype\"})") == 1, TimeSpan.FromSeconds(30), "Prometheus scrapes the host");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Evaluates <paramref name="promql"/> now; throws with Prometheus's own message when it is not valid.</summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        using var response = await Client.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql));
        var body = await response.Content.ReadAsStringAsync();
        var json = JsonDocument.Parse(body).RootElement;
        if (json.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus rejected '{promql}': {json.GetProperty("error").GetString()}");
        }

        return json.GetProperty("data");
    }

    /// <summary>The single value of <paramref name="promql"/>, or null when the result is empty.</summary>
    public Task<double?> ScalarAsync(string promql) => ScalarAsync(this, promql);

    private static async Task<double?> ScalarAsync(PrometheusServer server, string promql)
    {
        var result = (await server.QueryAsync(promql)).GetProperty("result");
        return result.GetArrayLength() == 0
            ? null
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
