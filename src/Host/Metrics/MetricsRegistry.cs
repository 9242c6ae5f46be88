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

    /// <summary>
    /// Without exemplars: the default asks <c>Activity.Current</c> for a trace on every observation (about 1 % of the
    /// host's CPU per proxied request in a profile), and the host exports no traces an exemplar could point to.
    /// </summary>
    public IMetricFactory Factory { get; }

    public MetricsRegistry()
    {
        Factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        Factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
    }
}
