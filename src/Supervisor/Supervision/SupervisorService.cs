using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Runtimes;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Supervision;

/// <summary>
/// Owns the app pools: loads the platform versions and the apps directory at start-up, starts a pool per
/// valid app, applies changes to the directory while running (a changed app gets a new pool that replaces
/// the old one only once it is ready), and stops every pool on shutdown.
/// </summary>
public sealed partial class SupervisorService(
    IOptions<PyPEOptions> options,
    IOptions<RestartPolicyOptions> restartOptions,
    IConfiguration configuration,
    TimeProvider time,
    ILoggerFactory loggers,
    ILogger<SupervisorService> logger,
    IPoolObserver? observer = null) : IHostedService, ISupervisorState, IAsyncDisposable
{
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private SupervisorSnapshot _current = SupervisorSnapshot.Empty;
    private Dictionary<string, AppPool> _pools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _deployErrors = new(StringComparer.Ordinal);
    private readonly List<Task> _retiring = [];
    private RuntimeCatalog _runtimes = SupervisorSnapshot.Empty.Runtimes;
    private WorkerNotifyListener? _notify;
    private AppPoolFactory? _factory;
    private AppsDirectoryWatcher? _watcher;
    private string? _runtimeDirectory;
    private string _appsDirectory = "";

    public SupervisorSnapshot Current => Volatile.Read(ref _current);

    /// <summary>The resolved apps directory.</summary>
    public string AppsDirectory => _appsDirectory;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Every option is bound (and so checked) before anything is created: a bad value must not leave a
        // runtime folder or socket behind.
        var settings = options.Value;
        var restarts = restartOptions.Value;
        _appsDirectory = Path.GetFullPath(settings.AppsDirectory ?? Path.Combine(AppContext.BaseDirectory, "samples", "apps.d"));
        var hostErrors = HostSettingsValidator.Validate(configuration, settings, _appsDirectory);
        if (hostErrors.Count > 0)
        {
            throw new OptionsValidationException(PyPEOptions.SectionName, typeof(PyPEOptions), hostErrors.Select(e => e.ToString()));
        }

        _runtimes = await RuntimeCatalogLoader.LoadAsync(configuration, settings.DiscoverPyenvRuntimes, cancellationToken);
        if (_runtimes.Errors.Count > 0)
        {
            throw new OptionsValidationException(PyPEOptions.SectionName, typeof(PyPEOptions), _runtimes.Errors.Select(e => e.ToString()));
        }

        foreach (var runtime in _runtimes.Runtimes.Values.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            if (runtime.Error is null)
            {
                LogRuntime(runtime.Id, runtime.Version ?? "?", runtime.Python, runtime.Origin);
            }
            else
            {
                LogRuntimeUnavailable(runtime.Id, runtime.Error);
            }
        }

        _runtimeDirectory = RuntimeDirectory.Resolve(settings.RuntimeDirectory);
        try
        {
            _notify = new WorkerNotifyListener(Path.Combine(_runtimeDirectory, "notify.sock"), loggers.CreateLogger<WorkerNotifyListener>());
            var launchSettings = new WorkerLaunchSettings(_runtimeDirectory, settings.Environment.ToUpperInvariant());
            var launcher = new WorkerLauncher(_notify, launchSettings, loggers.CreateLogger<WorkerLauncher>(), time);
            _factory = new AppPoolFactory(launcher, new WorkerIdSource(), launchSettings, restarts, time, loggers, observer);

            await ReloadAsync(initial: true);
            _watcher = new AppsDirectoryWatcher(_appsDirectory, () => _ = ReloadAsync(initial: false), time);
        }
        catch
        {
            // The host will not call StopAsync for a service that failed to start: undo what was created.
            await StopAsync(CancellationToken.None);
            throw;
        }
    }

    /// <summary>Re-reads the apps directory now (the watcher does this by itself on changes).</summary>
    public void RequestReload() => _watcher?.Poke();

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        _watcher?.Dispose();
        await _reloadGate.WaitAsync(cancellationToken);
        try
        {
            var pools = _pools.Values.ToList();
            _pools = new(StringComparer.Ordinal);
            Task[] retiring;
            lock (_retiring)
            {
                retiring = [.. _retiring];
            }

            await Task.WhenAll(pools.Select(p => p.StopAsync(cancellationToken)).Concat(retiring)).WaitAsync(cancellationToken);
            Publish(new(StringComparer.Ordinal), Current.RejectedApps);
        }
        finally
        {
            _reloadGate.Release();
            _notify?.Dispose();
            if (_runtimeDirectory is not null)
            {
                RuntimeDirectory.TryRemove(_runtimeDirectory);
            }
        }
    }

    private async Task ReloadAsync(bool initial)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _reloadGate.WaitAsync();
        try
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            AppCatalog catalog;
            try
            {
                catalog = Directory.Exists(_appsDirectory) ? AppCatalogLoader.Load(_appsDirectory, _runtimes) : throw new DirectoryNotFoundException(_appsDirectory);
            }
            catch (Exception ex) when (!initial)
            {
                LogReloadFailed(ex, _appsDirectory);
                return;
            }

            foreach (var (name, errors) in catalog.Rejected)
            {
                LogRejected(name, errors.Count, string.Join("\n  ", errors));
            }

            await ApplyAsync(catalog);
            LogCatalogLoaded(_appsDirectory, _pools.Count, catalog.Rejected.Count);
        }
        catch (Exception ex)
        {
            LogReloadFailed(ex, _appsDirectory);
            if (initial)
            {
                throw;
            }
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    private async Task ApplyAsync(AppCatalog catalog)
    {
        var next = new Dictionary<string, AppPool>(_pools, StringComparer.Ordinal);
        var retired = new List<AppPool>();
        var wanted = catalog.Apps.ToDictionary(a => a.Name, StringComparer.Ordinal);

        // Removed: the file is gone. A file that is present but now invalid keeps its last good version running.
        foreach (var (name, pool) in _pools)
        {
            if (!wanted.ContainsKey(name) && !catalog.Rejected.ContainsKey(name))
            {
                next.Remove(name);
                _deployErrors.Remove(name);
                retired.Add(pool);
                LogAppRemoved(name);
            }
        }

        var replacements = new List<(AppPool Old, AppPool New)>();
        foreach (var app in catalog.Apps)
        {
            var runtime = _runtimes.Runtimes[app.Runtime];
            if (!_pools.TryGetValue(app.Name, out var existing))
            {
                var pool = _factory!.Create(app, runtime);
                pool.Start();
                next[app.Name] = pool;
                LogAppAdded(app.Name, runtime.Id);
            }
            else if (existing.App.Fingerprint != app.Fingerprint)
            {
                var pool = _factory!.Create(app, runtime, existing.Counters);
                pool.Start();
                replacements.Add((existing, pool));
            }
        }

        // Publish additions and removals now; replacements once the new pool is ready (or has failed).
        Publish(next, catalog.Rejected);
        _pools = next;

        foreach (var (old, replacement) in replacements)
        {
            await replacement.FirstOutcome.WaitAsync(replacement.App.Pool.StartTimeout * 2, time, _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            if (replacement.State == PoolState.Running || old.State == PoolState.Failed)
            {
                next[old.App.Name] = replacement;
                _deployErrors.Remove(old.App.Name);
                retired.Add(old);
                LogAppReplaced(old.App.Name);
            }
            else
            {
                var error = replacement.LastError ?? "it did not become ready";
                _deployErrors[old.App.Name] = error;
                LogAppReplaceFailed(old.App.Name, error);
                retired.Add(replacement);
            }
        }

        Publish(next, catalog.Rejected);
        _pools = next;
        foreach (var pool in retired)
        {
            // Draining can take a while (requests in hand finish); the host's stop waits for it.
            lock (_retiring)
            {
                _retiring.RemoveAll(t => t.IsCompleted);
                _retiring.Add(RetireAsync(pool));
            }
        }
    }

    private async Task RetireAsync(AppPool pool)
    {
        try
        {
            await pool.DisposeAsync();
        }
        catch (Exception ex)
        {
            LogRetireFailed(ex, pool.App.Name);
        }
    }

    private void Publish(Dictionary<string, AppPool> pools, IReadOnlyDictionary<string, IReadOnlyList<ConfigError>> rejected) =>
        Volatile.Write(ref _current, new SupervisorSnapshot(
            [.. pools.Values.OrderBy(p => p.App.Name, StringComparer.Ordinal)], rejected, new Dictionary<string, string>(_deployErrors, StringComparer.Ordinal), _runtimes));

    public async ValueTask DisposeAsync()
    {
        // Normally StopAsync has stopped every pool already; this covers a host that never stopped cleanly.
        foreach (var pool in _pools.Values)
        {
            await pool.DisposeAsync();
        }

        _notify?.Dispose();
        _watcher?.Dispose();
        _stopping.Dispose();
        _reloadGate.Dispose();
    }
}
