using Prometheus;

namespace PyPE.Host.Metrics;

/// <summary>
/// The host's own Prometheus registry (never the static default one: hosts in one test process stay apart,
/// and no .NET meter or event-counter bridge adds series of its own — per-worker HttpClient meters would
/// multiply with every worker).
/// </summary>
internal sealed class MetricsRegistry
{
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    public IMetricFactory Factory => Prometheus.Metrics.WithCustomRegistry(Registry);
}
