using Microsoft.Extensions.Logging;
using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Runtimes;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Supervision;

/// <summary>Creates pools with the host-wide pieces they share.</summary>
public sealed class AppPoolFactory(IWorkerLauncher launcher, WorkerIdSource ids, WorkerLaunchSettings settings, RestartPolicyOptions restarts, TimeProvider time, ILoggerFactory loggers)
{
    public AppPool Create(AppDefinition app, RuntimeDefinition runtime) =>
        new(app, runtime, launcher, ids, settings, restarts, time, loggers.CreateLogger<AppPool>());
}
