using System.Diagnostics;
using System.Reflection;
using PyPE.Host.Slo;
using PyPE.Supervisor;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Processes;
using PyPE.Supervisor.Supervision;

namespace PyPE.Host.Admin;

/// <summary>Reads the supervisor's current snapshot into a <see cref="StatusReport"/>.</summary>
internal sealed class StatusReportBuilder(SupervisorService supervisor, SloLedgerService ledger, IConfiguration configuration, TimeProvider time)
{
    private static readonly DateTimeOffset ProcessStartedAt = Process.GetCurrentProcess().StartTime.ToUniversalTime();
    private static readonly string Version = typeof(StatusReportBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public StatusReport Build()
    {
        var snapshot = supervisor.Current;
        var now = time.GetUtcNow();
        var host = new HostStatus(
            Environment.ProcessId,
            Version,
            (configuration["PyPE:Environment"] ?? "TEST").ToUpperInvariant(),
            ProcessStartedAt,
            (now - ProcessStartedAt).TotalSeconds,
            ProcessMemory.ResidentBytes(Environment.ProcessId) ?? 0,
            supervisor.AppsDirectory,
            ledger.Path,
            ledger.Error);
        var runtimes = snapshot.Runtimes.Runtimes.Values
            .OrderBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => new RuntimeStatus(r.Id, r.Python, r.Version, r.PythonPath, r.Origin, r.Error, r.EndOfSupport))
            .ToList();
        var apps = snapshot.Pools.Select(p => Describe(p, snapshot.DeployErrors.GetValueOrDefault(p.App.Name), now)).ToList();
        var rejected = snapshot.RejectedApps.ToDictionary(r => r.Key, r => (IReadOnlyList<string>)[.. r.Value.Select(e => e.ToString())], StringComparer.Ordinal);
        return new StatusReport(host, runtimes, apps, rejected);
    }

    private static AppStatus Describe(AppPool pool, string? deployError, DateTimeOffset now)
    {
        var app = pool.App;
        var workers = pool.Workers.Select(w => new WorkerStatus(
            w.Id, w.Pid, w.State.ToString().ToLowerInvariant(), w.RequestsServed, w.InFlight, w.MemoryBytes,
            w.ReadyAt is { } ready ? (now - ready).TotalSeconds : 0, w.CreatedAt, w.RecycleReason)).ToList();
        var restarts = RecycleReasons.All.ToDictionary(r => r, pool.Counters.Restarts, StringComparer.Ordinal);
        var recent = pool.RecentRestarts.Select(r => new RestartStatus(r.At, r.WorkerId, r.Pid, r.Reason, r.Detail)).ToList();
        return new AppStatus(
            app.Name, pool.Runtime.Id, pool.Runtime.Version, pool.Runtime.Python, pool.State.ToString().ToLowerInvariant(), pool.LastError, deployError,
            app.Route.PathPrefix, app.Route.Hosts, pool.Dispatcher.QueueLength, app.Pool.MaxQueue, app.Pool.MinWorkers, app.Pool.MaxWorkers,
            pool.Counters.Spawns, restarts, recent, workers);
    }
}
