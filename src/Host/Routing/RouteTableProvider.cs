using System.Collections.Concurrent;
using PyPE.Host.Metrics;
using PyPE.Host.StaticFiles;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Supervision;

namespace PyPE.Host.Routing;

/// <summary>
/// Keeps the <see cref="RouteTable"/> in step with the supervisor's snapshots: the first request after a new
/// snapshot rebuilds it (a reference comparison per request otherwise).
/// </summary>
internal sealed class RouteTableProvider
{
    private readonly ISupervisorState _supervisor;
    private readonly PyPEMetrics _metrics;
    private readonly StaticMountFactory _staticMounts;
    private readonly ConcurrentDictionary<AppPool, AppRoute> _routes = new();
    private readonly Lock _rebuildLock = new();
    private RouteTable _current = RouteTable.Empty;
    private SupervisorSnapshot? _builtFrom;

    public RouteTableProvider(ISupervisorState supervisor, PyPEMetrics metrics, StaticMountFactory staticMounts)
    {
        _supervisor = supervisor;
        _metrics = metrics;
        _staticMounts = staticMounts;
    }

    /// <summary>The current table; cheap to call on every request.</summary>
    public RouteTable Current
    {
        get
        {
            var snapshot = _supervisor.Current;
            return ReferenceEquals(snapshot, Volatile.Read(ref _builtFrom)) ? Volatile.Read(ref _current) : Rebuild(snapshot);
        }
    }

    private RouteTable Rebuild(SupervisorSnapshot snapshot)
    {
        lock (_rebuildLock)
        {
            if (ReferenceEquals(snapshot, _builtFrom))
            {
                return _current;
            }

            var live = snapshot.Pools.ToHashSet();
            foreach (var stale in _routes.Keys.Where(p => !live.Contains(p)).ToList())
            {
                _routes.TryRemove(stale, out _);
            }

            var table = new RouteTable(snapshot.Pools.Select(p => _routes.GetOrAdd(p, CreateRoute)));
            Volatile.Write(ref _current, table);
            Volatile.Write(ref _builtFrom, snapshot);
            return table;
        }
    }

    private AppRoute CreateRoute(AppPool pool) => new(pool, _staticMounts.Create(pool.App), _metrics.ForApp(pool.App.Name));
}
