using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PyPE.Host.Admin;
using PyPE.Host.Hosting;

namespace PyPE.Host.Tests.Infrastructure;

/// <summary>
/// The real host, in this process, on Kestrel at 127.0.0.1:0 with real Python workers, over a private
/// apps directory and runtime directory. Disposing stops it and asserts no worker process is left.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestHost(WebApplication app, string root, string appsDirectory, string runtimeDirectory)
    {
        _app = app;
        Root = root;
        AppsDirectory = appsDirectory;
        RuntimeDirectory = runtimeDirectory;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        var admin = app.Services.GetRequiredService<AdminServer>().Addresses[0];
        Admin = new HttpClient { BaseAddress = new Uri(admin), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string Root { get; }

    public string AppsDirectory { get; }

    public string RuntimeDirectory { get; }

    public HttpClient Client { get; }

    public HttpClient Admin { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestHost> StartAsync(IEnumerable<TestApp> apps, IEnumerable<string>? extraArgs = null, IEnumerable<(string Name, string Json)>? rawAppFiles = null, string? root = null)
    {
        root ??= Directory.CreateTempSubdirectory("pype-test-").FullName;
        var appsDirectory = Directory.CreateDirectory(Path.Combine(root, "apps.d")).FullName;
        foreach (var testApp in apps)
        {
            await File.WriteAllTextAsync(Path.Combine(appsDirectory, testApp.Name + ".json"), testApp.ToJson());
        }

        foreach (var (name, json) in rawAppFiles ?? [])
        {
            await File.WriteAllTextAsync(Path.Combine(appsDirectory, name + ".json"), json);
        }

        // Short, private socket folder (socket paths are limited to 107 bytes).
        var runtimeDirectory = Path.Combine("/tmp", "pt-" + Guid.NewGuid().ToString("N")[..10]);
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--PyPE:Admin:Urls=http://127.0.0.1:0",
            $"--PyPE:AppsDirectory={appsDirectory}",
            $"--PyPE:RuntimeDirectory={runtimeDirectory}",
            "--PyPE:Restarts:InitialDelay=00:00:00.050",
            "--PyPE:Restarts:MaxDelay=00:00:00.500",
            "--Serilog:MinimumLevel:Default=Warning",
            $"--PyPE:Slo:Database={Path.Combine(root, "slo.db")}",
            .. extraArgs ?? [],
        ];
        var app = PyPEApplication.Build(args);
        await app.StartAsync();
        return new TestHost(app, root, appsDirectory, runtimeDirectory);
    }

    public async Task<JsonElement> StatusAsync()
    {
        using var response = await Admin.GetAsync("/status");
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    public async Task<JsonElement> AppStatusAsync(string app)
    {
        var status = await StatusAsync();
        return status.GetProperty("apps").EnumerateArray().Single(a => a.GetProperty("name").GetString() == app);
    }

    /// <summary>Waits until the app has at least <paramref name="count"/> ready (or busy) workers.</summary>
    public Task WaitForReadyWorkersAsync(string app, int count, TimeSpan? timeout = null) =>
        Wait.UntilAsync(async () => (await ReadyPidsAsync(app)).Count >= count, timeout ?? TimeSpan.FromSeconds(20), $"{app} has {count} ready workers");

    public async Task<List<int>> ReadyPidsAsync(string app)
    {
        var status = await AppStatusAsync(app);
        return [.. status.GetProperty("workers").EnumerateArray()
            .Where(w => w.GetProperty("state").GetString() is "ready" or "busy")
            .Select(w => w.GetProperty("pid").GetInt32())];
    }

    /// <summary>Keep <see cref="Root"/> (the apps directory and the SLO ledger) after the host stops, to start another on it.</summary>
    public bool KeepRoot { get; set; }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Admin.Dispose();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await _app.StopAsync(timeout.Token);
        }

        await _app.DisposeAsync();
        var left = WorkerProcesses.Under(RuntimeDirectory);
        try
        {
            if (!KeepRoot)
            {
                Directory.Delete(Root, recursive: true);
            }
        }
        catch (IOException)
        {
        }

        Assert.True(left.Count == 0, $"worker processes left behind after the host stopped: {string.Join(", ", left)}");
    }
}
