using Microsoft.Extensions.Logging;
using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Runtimes;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Supervision;

/// <summary>Creates pools with the host-wide pieces they share.</summary>
public sealed class AppPoolFactory(IWorkerLauncher launcher, WorkerIdSource ids, WorkerLaunchSettings settings, RestartPolicyOptions restarts, TimeProvider time, ILoggerFactory loggers, IPoolObserver? observer = null)
{
    /// <summary>A pool for <paramref name="app"/>; <paramref name="counters"/> carries on the counts of the pool it replaces.</summary>
    public AppPool Create(AppDefinition app, RuntimeDefinition runtime, PoolCounters? counters = null) =>
        new(app, runtime, launcher, ids, settings, restarts, time, loggers.CreateLogger<AppPool>(), counters, observer);
}
