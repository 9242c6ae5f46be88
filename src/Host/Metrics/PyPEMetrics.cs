using System.Collections.Concurrent;
using Prometheus;
using PyPE.Supervisor;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Supervision;
using PyPE.Supervisor.Workers;

namespace PyPE.Host.Metrics;

/// <summary>
/// The host's Prometheus metrics, in a registry of its own (never the static default one, so hosts in
/// one test process stay apart). Request metrics are recorded on the hot path through cached
/// <see cref="AppMetrics"/>; pool and worker gauges are read from the supervisor at scrape time.
/// </summary>
internal sealed class PyPEMetrics
{
    /// <summary>Buckets in seconds; 2 s is the SLO's threshold and must stay a bucket boundary.</summary>
    public static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

    private static readonly string[] StateNames = [.. Enum.GetValues<WorkerState>().Select(s => s.ToString().ToLowerInvariant())];

    private readonly ConcurrentDictionary<string, AppMetrics> _apps = new(StringComparer.Ordinal);
    private readonly Counter _requests;
    private readonly Histogram _durations;
    private readonly Counter _rejected;
    private readonly Gauge _queueLength;
    private readonly Gauge _workers;
    private readonly Counter _restarts;
    private readonly Counter _spawns;
    private readonly Gauge _appUp;
    private readonly string _environment;
    private readonly ISupervisorState _supervisor;
    private HashSet<(string App, string Runtime)> _seen = [];

    public PyPEMetrics(ISupervisorState supervisor, IConfiguration configuration)
    {
        _supervisor = supervisor;
        _environment = (configuration["PyPE:Environment"] ?? "TEST").ToUpperInvariant();
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        _requests = factory.CreateCounter("pype_http_requests_total", "HTTP requests answered, by app, class (static|dynamic) and status class.",
            new CounterConfiguration { LabelNames = ["app", "class", "status_class", "environment"] });
        _durations = factory.CreateHistogram("pype_http_request_duration_seconds", "Time from request arrival to the end of the response, by app and class.",
            new HistogramConfiguration { LabelNames = ["app", "class", "environment"], Buckets = DurationBuckets });
        _rejected = factory.CreateCounter("pype_requests_rejected_total", "Requests the host answered itself with an error, by reason.",
            new CounterConfiguration { LabelNames = ["app", "reason", "environment"] });
        _queueLength = factory.CreateGauge("pype_queue_length", "Requests waiting for a free worker.",
            new GaugeConfiguration { LabelNames = ["app", "environment"] });
        _workers = factory.CreateGauge("pype_workers", "Worker processes by state.",
            new GaugeConfiguration { LabelNames = ["app", "runtime", "state", "environment"] });
        _restarts = factory.CreateCounter("pype_worker_restarts_total", "Workers replaced, by reason (crash, start_failure, max_requests, memory, request_timeout).",
            new CounterConfiguration { LabelNames = ["app", "reason", "environment"] });
        _spawns = factory.CreateCounter("pype_worker_spawns_total", "Worker processes started.",
            new CounterConfiguration { LabelNames = ["app", "environment"] });
        _appUp = factory.CreateGauge("pype_app_up", "1 when the app can serve (not failed), else 0.",
            new GaugeConfiguration { LabelNames = ["app", "runtime", "environment"] });

        Registry.AddBeforeCollectCallback(CollectPools);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Label used for requests that matched no app (404s from the host).</summary>
    public const string NoApp = "none";

    public AppMetrics ForApp(string app) =>
        _apps.GetOrAdd(app, static (name, self) => new AppMetrics(name, self._environment, self._requests, self._durations, self._rejected), this);

    private void CollectPools()
    {
        var seen = new HashSet<(string App, string Runtime)>();
        Span<int> counts = stackalloc int[StateNames.Length];
        foreach (var pool in _supervisor.Current.Pools)
        {
            var app = pool.App.Name;
            var runtime = pool.Runtime.Id;
            seen.Add((app, runtime));
            _queueLength.WithLabels(app, _environment).Set(pool.Dispatcher.QueueLength);
            _appUp.WithLabels(app, runtime, _environment).Set(pool.State == PoolState.Failed ? 0 : 1);
            counts.Clear();
            foreach (var worker in pool.Workers)
            {
                counts[(int)worker.State]++;
            }

            for (var i = 0; i < StateNames.Length; i++)
            {
                _workers.WithLabels(app, runtime, StateNames[i], _environment).Set(counts[i]);
            }

            foreach (var reason in RecycleReasons.All)
            {
                _restarts.WithLabels(app, reason, _environment).IncTo(pool.Counters.Restarts(reason));
            }

            _spawns.WithLabels(app, _environment).IncTo(pool.Counters.Spawns);
        }

        // Apps (or app and runtime pairs, after a runtime change) that left: drop their gauges so they do not
        // report stale values forever. Series labelled by app alone go only when the app itself is gone.
        foreach (var (app, runtime) in _seen.Where(s => !seen.Contains(s)))
        {
            if (!seen.Any(s => s.App == app))
            {
                _queueLength.RemoveLabelled(app, _environment);
            }

            _appUp.RemoveLabelled(app, runtime, _environment);
            foreach (var state in StateNames)
            {
                _workers.RemoveLabelled(app, runtime, state, _environment);
            }
        }

        _seen = seen;
    }
}
