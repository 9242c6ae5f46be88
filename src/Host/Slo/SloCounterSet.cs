using System.Collections.Concurrent;

namespace PyPE.Host.Slo;

/// <summary>The <see cref="SloCounters"/> of every app (and of unrouted requests), created on first use.</summary>
internal sealed class SloCounterSet
{
    private readonly ConcurrentDictionary<string, SloCounters> _apps = new(StringComparer.Ordinal);

    public SloCounters ForApp(string app) => _apps.GetOrAdd(app, static _ => new SloCounters());

    public IEnumerable<KeyValuePair<string, SloCounters>> All => _apps;
}
