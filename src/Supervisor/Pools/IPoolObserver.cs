namespace PyPE.Supervisor.Pools;

/// <summary>Events of the pools that the host records elsewhere (metrics); the supervisor stays free of that.</summary>
public interface IPoolObserver
{
    /// <summary>A worker of <paramref name="app"/> became ready <paramref name="startDuration"/> after it was spawned.</summary>
    void WorkerReady(string app, string runtime, TimeSpan startDuration);
}
