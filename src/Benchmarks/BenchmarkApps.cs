using Microsoft.Extensions.Logging.Abstractions;
using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Runtimes;
using PyPE.Supervisor.Workers;

namespace PyPE.Benchmarks;

/// <summary>App definitions and pools for benchmarks: real objects, no processes.</summary>
internal static class BenchmarkApps
{
    public static AppDefinition App(string name, string prefix, params string[] hosts) => new()
    {
        Name = name,
        SourceFile = $"/bench/{name}.json",
        Runtime = "system",
        Root = "/bench",
        Wsgi = "app:application",
        Route = new RouteDefinition { PathPrefix = prefix, Hosts = hosts },
        Fingerprint = name,
    };

    public static AppPool Pool(AppDefinition app) => new(
        app,
        new RuntimeDefinition { Id = "system", Python = "/usr/bin/python3" },
        new NoProcesses(),
        new WorkerIdSource(),
        new WorkerLaunchSettings("/tmp/bench", "TEST"),
        new RestartPolicyOptions(),
        TimeProvider.System,
        NullLogger<AppPool>.Instance);

    private sealed class NoProcesses : IWorkerLauncher
    {
        public Task<WorkerStartResult> StartAsync(Worker worker, AppDefinition app, RuntimeDefinition runtime, CancellationToken cancellationToken) =>
            Task.FromResult(WorkerStartResult.Failure("benchmarks start no processes"));

        public bool IsRunning(Worker worker) => false;

        public void Signal(Worker worker, int signal, bool wholeGroup = true)
        {
        }
    }
}
