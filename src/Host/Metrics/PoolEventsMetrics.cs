using System.Collections.Concurrent;
using Prometheus;
using PyPE.Supervisor.Pools;

namespace PyPE.Host.Metrics;

/// <summary>Metrics of pool events the supervisor reports as they happen (worker start durations).</summary>
internal sealed class PoolEventsMetrics : IPoolObserver
{
    /// <summary>Buckets in seconds for a worker's import-to-ready time (Django apps take about a second).</summary>
    private static readonly double[] StartBuckets = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

    private readonly Histogram _startDuration;
    private readonly ConcurrentDictionary<(string App, string Runtime), Histogram.Child> _children = new();
    private readonly string _environment;

    public PoolEventsMetrics(MetricsRegistry registry, IConfiguration configuration)
    {
        _environment = PyPEMetrics.EnvironmentOf(configuration);
        _startDuration = registry.Factory.CreateHistogram("pype_worker_start_duration_seconds", "Time from spawning a worker until it reported ready (the app imported).",
            new HistogramConfiguration { LabelNames = ["app", "runtime", "environment"], Buckets = StartBuckets });
    }

    public void WorkerReady(string app, string runtime, TimeSpan startDuration) =>
        _children.GetOrAdd((app, runtime), static (key, self) => self._startDuration.WithLabels(key.App, key.Runtime, self._environment), this)
            .Observe(startDuration.TotalSeconds);
}
