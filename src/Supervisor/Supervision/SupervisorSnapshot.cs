using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Runtimes;

namespace PyPE.Supervisor.Supervision;

/// <summary>
/// The live app set at one moment, immutable. A new snapshot replaces it atomically on every change;
/// readers (routing, status, metrics) compare references to notice.
/// </summary>
public sealed class SupervisorSnapshot(
    IReadOnlyList<AppPool> pools,
    IReadOnlyDictionary<string, IReadOnlyList<ConfigError>> rejectedApps,
    IReadOnlyDictionary<string, string> deployErrors,
    RuntimeCatalog runtimes)
{
    public static readonly SupervisorSnapshot Empty = new(
        [], new Dictionary<string, IReadOnlyList<ConfigError>>(), new Dictionary<string, string>(),
        new RuntimeCatalog(new Dictionary<string, RuntimeDefinition>(), []));

    /// <summary>One pool per routed app.</summary>
    public IReadOnlyList<AppPool> Pools { get; } = pools;

    /// <summary>App files that could not be loaded, with their errors (a last good version may still be in <see cref="Pools"/>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ConfigError>> RejectedApps { get; } = rejectedApps;

    /// <summary>App name → why its last changed version failed to start (the previous version kept serving).</summary>
    public IReadOnlyDictionary<string, string> DeployErrors { get; } = deployErrors;

    public RuntimeCatalog Runtimes { get; } = runtimes;
}
