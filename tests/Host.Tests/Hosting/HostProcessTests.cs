using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using PyPE.Host.Tests.Infrastructure;
using PyPE.Supervisor.Processes;

namespace PyPE.Host.Tests.Hosting;

/// <summary>The host as operators run it: a separate process, stopped with SIGTERM or killed with SIGKILL.</summary>
public sealed partial class HostProcessTests
{
    [GeneratedRegex(@"PyPE\.Exec is serving at (http://\S+) \(admin: (http://[^)\s]+)\)")]
    private static partial Regex Banner();

    [Fact(Timeout = 90_000)]
    public async Task Sigterm_FinishesTheRequestInHand_AndLeavesNoPythonProcess()
    {
        await using var host = await HostProcess.StartAsync("term");
        var pids = WorkerProcesses.Under(host.RuntimeDirectory);
        Assert.NotEmpty(pids);

        var inHand = host.Client.GetAsync("/apps/term/slow?ms=1500");
        await Wait.UntilAsync(async () => (await host.Admin.GetStringAsync("/status")).Contains("\"inFlight\": 1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the slow request is in hand");
        ProcessSignals.SignalProcess(host.Process.Id, ProcessSignals.SIGTERM);

        using var response = await inHand;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.Process.WaitForExitAsync(exited.Token);
        Assert.Equal(0, host.Process.ExitCode);
        Assert.Empty(WorkerProcesses.Under(host.RuntimeDirectory));
        Assert.All(pids, pid => Assert.False(WorkerProcesses.IsAlive(pid)));
        Assert.False(Directory.Exists(host.RuntimeDirectory), "the runtime directory is removed on a clean stop");
    }

    [Fact(Timeout = 90_000)]
    public async Task Sigkill_LeavesNoPythonProcess()
    {
        await using var host = await HostProcess.StartAsync("kill");
        var pids = WorkerProcesses.Under(host.RuntimeDirectory);
        Assert.NotEmpty(pids);

        ProcessSignals.SignalProcess(host.Process.Id, ProcessSignals.SIGKILL);
        using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.Process.WaitForExitAsync(exited.Token);

        // The workers notice their parent is gone (their stdin pipe closes) and take their group down.
        await Wait.UntilAsync(() => pids.All(pid => !WorkerProcesses.IsAlive(pid)) && WorkerProcesses.Under(host.RuntimeDirectory).Count == 0,
            TimeSpan.FromSeconds(15), "every worker of the killed host has exited");
    }

    /// <summary>A host started with `dotnet PyPE.Host.dll`, the way the systemd unit runs it.</summary>
    private sealed class HostProcess : IAsyncDisposable
    {
        private HostProcess(Process process, string root, string runtimeDirectory, Uri publicAddress, Uri adminAddress)
        {
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

        public static async Task<HostProcess> StartAsync(string app)
        {
            var root = Directory.CreateTempSubdirectory("pype-proc-").FullName;
            var apps = Directory.CreateDirectory(Path.Combine(root, "apps.d")).FullName;
            await File.WriteAllTextAsync(Path.Combine(apps, app + ".json"), new TestApp(app) { Pool = new() { ["minWorkers"] = 2, ["maxWorkers"] = 2 } }.ToJson());
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
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
            };
            var process = Process.Start(start)!;
            var banner = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var readyCount = 0;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    banner.TrySetException(new InvalidOperationException("the host exited before it served"));
                    return;
                }

                if (Banner().Match(e.Data) is { Success: true } match)
                {
                    banner.TrySetResult(match);
                }

                if (e.Data.Contains(" is ready after ", StringComparison.Ordinal) && Interlocked.Increment(ref readyCount) == 2)
                {
                    ready.TrySetResult();
                }
            };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            var found = await banner.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return new HostProcess(process, root, runtimeDirectory, new Uri(found.Groups[1].Value), new Uri(found.Groups[2].Value));
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
}
