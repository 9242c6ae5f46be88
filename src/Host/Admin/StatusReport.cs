namespace PyPE.Host.Admin;

/// <summary>The JSON of <c>GET /status</c> (contract in DESIGN.md): every app with its runtime, queue and workers.</summary>
internal sealed record StatusReport(
    HostStatus Host,
    IReadOnlyList<RuntimeStatus> Runtimes,
    IReadOnlyList<AppStatus> Apps,
    IReadOnlyDictionary<string, IReadOnlyList<string>> RejectedApps);

internal sealed record HostStatus(int Pid, string Version, string Environment, DateTimeOffset StartedAt, double UptimeSeconds, long MemoryBytes, string AppsDirectory, string SloLedger, string? SloLedgerError);

internal sealed record RuntimeStatus(string Id, string Python, string? Version, IReadOnlyList<string> PythonPath, string Origin, string? Error, DateOnly? EndOfSupport);

internal sealed record AppStatus(
    string Name,
    string Runtime,
    string? RuntimeVersion,
    string Python,
    string State,
    string? LastError,
    string? DeployError,
    string PathPrefix,
    IReadOnlyList<string> Hosts,
    int QueueLength,
    int MaxQueue,
    int MinWorkers,
    int MaxWorkers,
    long WorkerSpawns,
    IReadOnlyDictionary<string, long> Restarts,
    IReadOnlyList<RestartStatus> RecentRestarts,
    IReadOnlyList<WorkerStatus> Workers);

internal sealed record WorkerStatus(string Id, int Pid, string State, long RequestsServed, int InFlight, long MemoryBytes, double UptimeSeconds, DateTimeOffset StartedAt, string? RecycleReason);

internal sealed record RestartStatus(DateTimeOffset At, string WorkerId, int Pid, string Reason, string? Detail);
