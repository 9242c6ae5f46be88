using System.Diagnostics;
using System.Text.RegularExpressions;
using PyPE.Host.Hosting;

namespace PyPE.Host.Tests.Infrastructure;

/// <summary>A host started with `dotnet PyPE.Host.dll`, the way the systemd unit runs it.</summary>
internal sealed partial class HostProcess : IAsyncDisposable
{
    private HostProcess(Process process, string root, string runtimeDirectory, Uri publicAddress, Uri adminAddress, List<string> output)
    {
        _output = output;
        Process = process;
        Root = root;
        RuntimeDirectory = runtimeDirectory;
        Client = new HttpClient { BaseAddress = publicAddress, Timeout = TimeSpan.FromSeconds(30) };
        Admin = new HttpClient { BaseAddress = adminAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Process Process { get; }

    public string Root { get; }

    public string RuntimeDirectory { get; }

    public HttpClient Client { get; }

    public HttpClient Admin { get; }

    [GeneratedRegex(@"PyPE\.Exec is serving at (http://\S+) \(admin: (http://[^)\s]+)\)")]
    private static partial Regex Banner();

    /// <summary>Every line the host wrote to stdout so far (its log).</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_output)
            {
                return [.. _output];
            }
        }
    }

    private readonly List<string> _output;

    public static async Task<HostProcess> StartAsync(string app, IReadOnlyDictionary<string, string>? environment = null, Dictionary<string, object>? pool = null)
    {
        var root = Directory.CreateTempSubdirectory("pype-proc-").FullName;
        var apps = Directory.CreateDirectory(Path.Combine(root, "apps.d")).FullName;
        await File.WriteAllTextAsync(Path.Combine(apps, app + ".json"), new TestApp(app) { Pool = pool ?? new() { ["minWorkers"] = 2, ["maxWorkers"] = 2 } }.ToJson());
        var runtimeDirectory = Path.Combine("/tmp", "pp-" + Guid.NewGuid().ToString("N")[..10]);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "PyPE.Host.dll"),
                "--urls", "http://127.0.0.1:0",
                "--PyPE:Admin:Urls=http://127.0.0.1:0",
                $"--PyPE:AppsDirectory={apps}",
                $"--PyPE:RuntimeDirectory={runtimeDirectory}",
                $"--PyPE:Slo:Database={Path.Combine(root, "slo.db")}",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        // As an operator starts it: the test run's own socket setting (test.runsettings) is not passed on.
        start.Environment.Remove(InlineSocketIo.Variable);
        start.Environment.Remove("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var banner = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readyCount = 0;
        var wantedReady = pool is not null && pool.TryGetValue("minWorkers", out var min) ? (int)min : 2;
        var output = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.Add(e.Data);
                }
            }

            if (e.Data is null)
            {
                banner.TrySetException(new InvalidOperationException("the host exited before it served"));
                return;
            }

            if (Banner().Match(e.Data) is { Success: true } match)
            {
                banner.TrySetResult(match);
            }

            if (e.Data.Contains(" is ready after ", StringComparison.Ordinal) && Interlocked.Increment(ref readyCount) == wantedReady)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var found = await banner.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return new HostProcess(process, root, runtimeDirectory, new Uri(found.Groups[1].Value), new Uri(found.Groups[2].Value), output);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Admin.Dispose();
        if (!Process.HasExited)
        {
            Process.Kill();
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
        Directory.Delete(Root, recursive: true);
        RuntimeDirectoryCleanup();
    }

    private void RuntimeDirectoryCleanup()
    {
        if (Directory.Exists(RuntimeDirectory))
        {
            Directory.Delete(RuntimeDirectory, recursive: true);
        }
    }
}
