using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PyPE.Host.Hosting;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Hosting;

/// <summary>
/// Socket I/O inline on the event threads: the host switches it on for itself, an operator's setting wins, the
/// workers do not inherit it, and the functional tests run the host that way.
/// </summary>
public sealed class InlineSocketIoTests
{
    private const string EventThreadName = ".NET Sockets";

    [Fact]
    public void Choose_IsOnByDefault_AndKeepsAnOperatorsValue()
    {
        Assert.Equal("1", InlineSocketIo.Choose(null));
        Assert.Equal("0", InlineSocketIo.Choose("0"));
        Assert.Equal("1", InlineSocketIo.Choose("1"));
    }

    [Fact(Timeout = 30_000)]
    public async Task TheTests_RunTheHostWithBothHalvesInline()
    {
        // The runtime's switch, as it read it for this process (test.runsettings sets it before any socket): a
        // receive that completes later finishes on the socket event thread, not on a thread-pool thread.
        Assert.Equal((EventThreadName, false), await ThreadThatCompletesAReceiveAsync());

        await using var app = PyPEApplication.Build(["--urls", "http://127.0.0.1:0"]);
        Assert.True(app.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
    }

    [Fact(Timeout = 90_000)]
    public async Task HostProcess_SwitchesItOnForItself_AndWorkersDoNotInheritIt()
    {
        await using var host = await HostProcess.StartAsync("inline");

        // The runtime makes one event thread per core with inline completions, far fewer without (one per 30 cores).
        Assert.Equal(Environment.ProcessorCount, EventThreads(host.Process.Id));
        var workers = WorkerProcesses.Under(host.RuntimeDirectory);
        Assert.NotEmpty(workers);
        Assert.All(workers, pid => Assert.DoesNotContain(InlineSocketIo.Variable + "=", File.ReadAllText($"/proc/{pid}/environ"), StringComparison.Ordinal));
    }

    [Fact(Timeout = 90_000)]
    public async Task HostProcess_KeepsAnOperatorsOff()
    {
        await using var host = await HostProcess.StartAsync("notinline", new Dictionary<string, string> { [InlineSocketIo.Variable] = "0" });

        // Tells on from off only with more than one core (CI has two).
        Assert.True(EventThreads(host.Process.Id) < Environment.ProcessorCount || Environment.ProcessorCount == 1);
    }

    /// <summary>The name of the thread a pending socket receive completes on, and whether it is a thread-pool thread.</summary>
    private static async Task<(string? Name, bool ThreadPool)> ThreadThatCompletesAReceiveAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var server = await listener.AcceptAsync();

        var receive = server.ReceiveAsync(new byte[1].AsMemory(), SocketFlags.None).AsTask();
        Assert.False(receive.IsCompleted, "nothing sent yet: the receive waits for the event thread");
        var completedOn = receive.ContinueWith(
            _ => (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        await client.SendAsync(new byte[] { 1 }, SocketFlags.None);
        return await completedOn.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static int EventThreads(int pid) => Directory.GetDirectories($"/proc/{pid}/task").Count(IsEventThread);

    private static bool IsEventThread(string task)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, "comm")).TrimEnd() == EventThreadName;
        }
        catch (IOException)
        {
            return false; // a thread that ended between the listing and the read
        }
    }
}
