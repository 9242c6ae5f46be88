using System.Net;
using PyPE.Host.Tests.Infrastructure;
using PyPE.Supervisor.Processes;

namespace PyPE.Host.Tests.Hosting;

/// <summary>The host as operators run it: a separate process, stopped with SIGTERM or killed with SIGKILL.</summary>
public sealed class HostProcessTests
{
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

    [Fact(Timeout = 90_000)]
    public async Task HungRequest_DumpsTheWorkersPythonStacksToTheLog()
    {
        await using var host = await HostProcess.StartAsync("stack", pool: new() { ["minWorkers"] = 1, ["maxWorkers"] = 1, ["requestTimeoutSeconds"] = 1 });

        using var response = await host.Client.GetAsync("/apps/stack/hang");

        Assert.Equal(System.Net.HttpStatusCode.GatewayTimeout, response.StatusCode);
        // faulthandler's dump, forwarded line by line with the app and worker id: the hung frame is named.
        await Wait.UntilAsync(() => host.Output.Any(l => l.Contains("stack stack-", StringComparison.Ordinal) && l.Contains("app.py", StringComparison.Ordinal) && l.Contains("in application", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15), "the hung worker's stack is in the log");
        Assert.Contains(host.Output, l => l.Contains("did not answer within the request timeout", StringComparison.Ordinal));
    }
}
