using System.Collections.Concurrent;
using System.Reflection;
using Prometheus;
using PyPE.Host.Logging;
using PyPE.Host.Slo;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Supervision;
using PyPE.Supervisor.Workers;

namespace PyPE.Host.Metrics;

/// <summary>
/// The host's Prometheus metrics. Request metrics are recorded on the hot path through cached
/// <see cref="AppMetrics"/> children; pool, worker and platform-version gauges are read from the
/// supervisor's snapshot at scrape time. Labels are bounded: app, runtime, class, status class, reason,
/// state, environment — never a path, query or pid.
/// </summary>
internal sealed class PyPEMetrics
{
    /// <summary>Buckets in seconds; 2 s is the SLO's threshold and must stay a bucket boundary.</summary>
    public static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

    /// <summary>Buckets in seconds for time spent waiting for a worker slot.</summary>
    public static readonly double[] QueueWaitBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30];

    /// <summary>Label used for requests that matched no app (404s from the host).</summary>
    public const string NoApp = "none";

    private static readonly string[] StateNames = [.. Enum.GetValues<WorkerState>().Select(s => s.ToString().ToLowerInvariant())];

    private readonly ConcurrentDictionary<string, AppMetrics> _apps = new(StringComparer.Ordinal);
    private readonly Counter _requests;
    private readonly Histogram _durations;
    private readonly Counter _rejected;
    private readonly Histogram _queueWait;
    private readonly Gauge _queueLength;
    private readonly Gauge _workers;
    private readonly Counter _restarts;
    private readonly Counter _recycles;
    private readonly Counter _spawns;
    private readonly Counter _prefetched;
    private readonly Counter _takenBack;
    private readonly Gauge _memorySum;
    private readonly Gauge _memoryMax;
    private readonly Gauge _appUp;
    private readonly Gauge _runtimeInfo;
    private readonly Gauge _runtimeEndOfSupport;
    private readonly Counter _probes;
    private readonly Histogram _probeDuration;
    private readonly Gauge _probeUp;
    private readonly Gauge _maintenance;
    private readonly MaintenanceSchedule _maintenanceSchedule;
    private readonly string _environment;
    private readonly ISupervisorState _supervisor;
    private readonly TimeProvider _time;
    private HashSet<(string App, string Runtime)> _seenApps = [];
    private HashSet<(string Runtime, string Version, string Origin)> _seenRuntimes = [];

    private readonly SloCounterSet _slo;
    private readonly LogBuffer? _logBuffer;
    private readonly Counter _logEventsDropped;

    public PyPEMetrics(MetricsRegistry registry, ISupervisorState supervisor, IConfiguration configuration, TimeProvider time, SloCounterSet slo, MaintenanceSchedule maintenance,
        LogBuffer? logBuffer = null)
    {
        _logBuffer = logBuffer;
        _slo = slo;
        _maintenanceSchedule = maintenance;
        _supervisor = supervisor;
        _time = time;
        _environment = EnvironmentOf(configuration);
        Registry = registry.Registry;
        var factory = registry.Factory;

        _requests = factory.CreateCounter("pype_http_requests_total",
            "HTTP requests answered, by app, class (static|dynamic), status class and origin (app: the app's answer; host: the platform's, e.g. a rejection or a dead worker).",
            new CounterConfiguration { LabelNames = ["app", "class", "status_class", "origin", "environment"] });
        _durations = factory.CreateHistogram("pype_http_request_duration_seconds", "Time from request arrival to the end of the response, by app, class and status class.",
            new HistogramConfiguration { LabelNames = ["app", "class", "status_class", "environment"], Buckets = DurationBuckets });
        _rejected = factory.CreateCounter("pype_requests_rejected_total", "Requests the host answered itself with an error, by reason.",
            new CounterConfiguration { LabelNames = ["app", "reason", "environment"] });
        _queueWait = factory.CreateHistogram("pype_queue_wait_seconds", "Time dynamic requests waited for a worker slot (0 when one was free).",
            new HistogramConfiguration { LabelNames = ["app", "environment"], Buckets = QueueWaitBuckets });
        _queueLength = factory.CreateGauge("pype_queue_length", "Requests waiting for a free worker.",
            new GaugeConfiguration { LabelNames = ["app", "environment"] });
        _workers = factory.CreateGauge("pype_workers", "Worker processes by state.",
            new GaugeConfiguration { LabelNames = ["app", "runtime", "state", "environment"] });
        _restarts = factory.CreateCounter("pype_worker_restarts_total", "Workers replaced because they failed, by reason (crash, start_failure, request_timeout).",
            new CounterConfiguration { LabelNames = ["app", "reason", "environment"] });
        _recycles = factory.CreateCounter("pype_worker_recycles_total", "Workers replaced or retired as planned, by reason (max_requests, memory, idle).",
            new CounterConfiguration { LabelNames = ["app", "reason", "environment"] });
        _spawns = factory.CreateCounter("pype_worker_spawns_total", "Worker processes started.",
            new CounterConfiguration { LabelNames = ["app", "environment"] });
        _prefetched = factory.CreateCounter("pype_prefetched_requests_total", "Requests handed ahead to a worker whose threads were all busy (pool.prefetch).",
            new CounterConfiguration { LabelNames = ["app", "environment"] });
        _takenBack = factory.CreateCounter("pype_prefetch_taken_back_total", "Requests handed ahead that the host took back before their worker started them (for a worker that became free first, the queue timeout, or the client leaving).",
            new CounterConfiguration { LabelNames = ["app", "environment"] });
        _memorySum = factory.CreateGauge("pype_worker_resident_memory_bytes", "Resident memory of the app's workers together (sampled every second).",
            new GaugeConfiguration { LabelNames = ["app", "runtime", "environment"] });
        _memoryMax = factory.CreateGauge("pype_worker_resident_memory_max_bytes", "Resident memory of the app's largest worker.",
            new GaugeConfiguration { LabelNames = ["app", "runtime", "environment"] });
        _appUp = factory.CreateGauge("pype_app_up", "1 when the app can serve (not failed), else 0.",
            new GaugeConfiguration { LabelNames = ["app", "runtime", "environment"] });
        _runtimeInfo = factory.CreateGauge("pype_runtime_info", "Platform versions known to the host (1 = usable, 0 = unavailable).",
            new GaugeConfiguration { LabelNames = ["runtime", "version", "origin", "environment"] });
        _runtimeEndOfSupport = factory.CreateGauge("pype_runtime_end_of_support_days", "Days until the platform version's Python stops getting security fixes (negative: already past).",
            new GaugeConfiguration { LabelNames = ["runtime", "environment"] });
        _probes = factory.CreateCounter("pype_probes_total", "Synthetic probes of each app's health path through the public listener, by result (up: an answer below 500 within the timeout).",
            new CounterConfiguration { LabelNames = ["app", "result", "environment"] });
        _probeDuration = factory.CreateHistogram("pype_probe_duration_seconds", "Time a synthetic probe took (to its answer or its timeout).",
            new HistogramConfiguration { LabelNames = ["app", "environment"], Buckets = DurationBuckets });
        _probeUp = factory.CreateGauge("pype_probe_up", "1 when the app's last synthetic probe found it up, else 0.",
            new GaugeConfiguration { LabelNames = ["app", "environment"] });
        _maintenance = factory.CreateGauge("pype_maintenance", "1 during a planned maintenance window (PyPE:Slo:Maintenance), else 0.",
            new GaugeConfiguration { LabelNames = ["environment"] });
        var version = typeof(PyPEMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        factory.CreateGauge("pype_build_info", "The host's build (always 1).", new GaugeConfiguration { LabelNames = ["version", "dotnet", "environment"] })
            .WithLabels(version, Environment.Version.ToString(), _environment).Set(1);

        _logEventsDropped = factory.CreateCounter("pype_log_events_dropped_total",
            $"Log events the host dropped because a sink's buffer was full ({LogBuffer.Capacity:N0} pending; the console, or each sink Serilog:WriteTo names, except those already wrapped in Async): the log has gaps.",
            new CounterConfiguration { LabelNames = ["environment"] });
        _logEventsDropped.WithLabels(_environment).Publish();

        Registry.AddBeforeCollectCallback(Collect);
    }

    public CollectorRegistry Registry { get; }

    public static string EnvironmentOf(IConfiguration configuration) => (configuration["PyPE:Environment"] ?? "TEST").ToUpperInvariant();

    public AppMetrics ForApp(string app) =>
        _apps.GetOrAdd(app, static (name, self) => new AppMetrics(name, self._environment, self._requests, self._durations, self._rejected, self._queueWait, self._slo.ForApp(name)), this);

    /// <summary>
    /// Publishes an app's probe series at 0 before its first probe, so Prometheus sees the first failure as an
    /// increase and the probe SLI has a value (0 errors) while all is well.
    /// </summary>
    public void InitializeProbe(string app)
    {
        _probes.WithLabels(app, "up", _environment).Publish();
        _probes.WithLabels(app, "down", _environment).Publish();
        _probeDuration.WithLabels(app, _environment).Publish();
    }

    /// <summary>Drops an app's probe series (the app left, or its probe was turned off).</summary>
    public void RemoveProbe(string app)
    {
        _probeUp.RemoveLabelled(app, _environment);
        _probes.RemoveLabelled(app, "up", _environment);
        _probes.RemoveLabelled(app, "down", _environment);
        _probeDuration.RemoveLabelled(app, _environment);
    }

    /// <summary>One synthetic probe's result (not on the request path: a label lookup is fine).</summary>
    public void RecordProbe(string app, bool up, double seconds)
    {
        _probes.WithLabels(app, up ? "up" : "down", _environment).Inc();
        _probeDuration.WithLabels(app, _environment).Observe(seconds);
        _probeUp.WithLabels(app, _environment).Set(up ? 1 : 0);
    }

    private void Collect()
    {
        _maintenance.WithLabels(_environment).Set(_maintenanceSchedule.IsMaintenance(_time.GetUtcNow().ToUnixTimeSeconds() / 60) ? 1 : 0);
        if (_logBuffer is not null)
        {
            _logEventsDropped.WithLabels(_environment).IncTo(_logBuffer.Dropped);
        }

        var snapshot = _supervisor.Current;
        CollectPools(snapshot);
        CollectRuntimes(snapshot);
    }

    private void CollectPools(SupervisorSnapshot snapshot)
    {
        var seen = new HashSet<(string App, string Runtime)>();
        Span<int> counts = stackalloc int[StateNames.Length];
        foreach (var pool in snapshot.Pools)
        {
            var app = pool.App.Name;
            var runtime = pool.Runtime.Id;
            seen.Add((app, runtime));
            _queueLength.WithLabels(app, _environment).Set(pool.Dispatcher.QueueLength);
            _appUp.WithLabels(app, runtime, _environment).Set(pool.State == PoolState.Failed ? 0 : 1);
            counts.Clear();
            long memorySum = 0, memoryMax = 0;
            foreach (var worker in pool.Workers)
            {
                counts[(int)worker.State]++;
                memorySum += worker.MemoryBytes;
                memoryMax = Math.Max(memoryMax, worker.MemoryBytes);
            }

            for (var i = 0; i < StateNames.Length; i++)
            {
                _workers.WithLabels(app, runtime, StateNames[i], _environment).Set(counts[i]);
            }

            _memorySum.WithLabels(app, runtime, _environment).Set(memorySum);
            _memoryMax.WithLabels(app, runtime, _environment).Set(memoryMax);
            foreach (var reason in RecycleReasons.Failures)
            {
                _restarts.WithLabels(app, reason, _environment).IncTo(pool.Counters.Restarts(reason));
            }

            foreach (var reason in RecycleReasons.Planned)
            {
                _recycles.WithLabels(app, reason, _environment).IncTo(pool.Counters.Restarts(reason));
            }

            _spawns.WithLabels(app, _environment).IncTo(pool.Counters.Spawns);
            _prefetched.WithLabels(app, _environment).IncTo(pool.Dispatcher.Prefetched);
            _takenBack.WithLabels(app, _environment).IncTo(pool.Dispatcher.TakenBack);
        }

        // Apps (or app and runtime pairs, after a runtime change) that left: drop their gauges so they do not
        // report stale values forever. Series labelled by app alone go only when the app itself is gone.
        foreach (var (app, runtime) in _seenApps.Where(s => !seen.Contains(s)))
        {
            if (!seen.Any(s => s.App == app))
            {
                _queueLength.RemoveLabelled(app, _environment);
                _probeUp.RemoveLabelled(app, _environment);
            }

            _appUp.RemoveLabelled(app, runtime, _environment);
            _memorySum.RemoveLabelled(app, runtime, _environment);
            _memoryMax.RemoveLabelled(app, runtime, _environment);
            foreach (var state in StateNames)
            {
                _workers.RemoveLabelled(app, runtime, state, _environment);
            }
        }

        _seenApps = seen;
    }

    private void CollectRuntimes(SupervisorSnapshot snapshot)
    {
        var today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
        var seen = new HashSet<(string Runtime, string Version, string Origin)>();
        foreach (var runtime in snapshot.Runtimes.Runtimes.Values)
        {
            var key = (runtime.Id, runtime.Version ?? "unknown", runtime.Origin);
            seen.Add(key);
            _runtimeInfo.WithLabels(key.Id, key.Item2, key.Origin, _environment).Set(runtime.Error is null ? 1 : 0);
            if (runtime.EndOfSupport is { } endOfSupport)
            {
                _runtimeEndOfSupport.WithLabels(runtime.Id, _environment).Set(endOfSupport.DayNumber - today.DayNumber);
            }
        }

        foreach (var (runtime, version, origin) in _seenRuntimes.Where(s => !seen.Contains(s)))
        {
            _runtimeInfo.RemoveLabelled(runtime, version, origin, _environment);
        }

        _seenRuntimes = seen;
    }
}
