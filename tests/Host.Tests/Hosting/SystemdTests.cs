using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using PyPE.Host.Tests.Infrastructure;
using PyPE.Supervisor.Processes;

namespace PyPE.Host.Tests.Hosting;

/// <summary>The systemd side: the notify protocol over our own NOTIFY_SOCKET, and the unit file.</summary>
public sealed class SystemdTests
{
    [Fact(Timeout = 90_000)]
    public async Task Host_SendsReadyWatchdogAndStopping_OnNotifySocket()
    {
        var socketPath = Path.Combine("/tmp", "pn-" + Guid.NewGuid().ToString("N")[..10] + ".sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        try
        {
            var messages = new List<string>();
            await using var host = await HostProcess.StartAsync("notify", new Dictionary<string, string>
            {
                ["NOTIFY_SOCKET"] = socketPath,
                ["WATCHDOG_USEC"] = "400000",
            });

            await ReceiveUntilAsync(socket, messages, m => m.Contains("READY=1", StringComparison.Ordinal));
            await ReceiveUntilAsync(socket, messages, m => m.Contains("WATCHDOG=1", StringComparison.Ordinal));
            Assert.Contains(messages, m => m.Contains("STATUS=1 apps", StringComparison.Ordinal));

            ProcessSignals.SignalProcess(host.Process.Id, ProcessSignals.SIGTERM);
            await ReceiveUntilAsync(socket, messages, m => m.Contains("STOPPING=1", StringComparison.Ordinal));
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await host.Process.WaitForExitAsync(exited.Token);
        }
        finally
        {
            File.Delete(socketPath);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task UnitFile_PassesSystemdAnalyzeVerify()
    {
        var unit = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "systemd", "pype-exec.service"));
        Assert.True(File.Exists(unit), unit);
        var start = new ProcessStartInfo("systemd-analyze") { ArgumentList = { "verify", unit }, RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0 && errors.Length == 0, $"systemd-analyze verify: exit {process.ExitCode}\n{errors}");
    }

    private static async Task ReceiveUntilAsync(Socket socket, List<string> messages, Func<string, bool> wanted)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!messages.Any(wanted))
        {
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            messages.Add(Encoding.UTF8.GetString(buffer, 0, received));
        }
    }
}
