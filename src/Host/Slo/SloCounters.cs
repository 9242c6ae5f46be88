using PyPE.Host.Metrics;

namespace PyPE.Host.Slo;

/// <summary>
/// One app's cumulative SLI counts since the host started, bumped on the request path (atomic adds, no
/// allocation). The ledger writes their per-minute differences.
/// </summary>
internal sealed class SloCounters
{
    /// <summary>The latency objective's threshold: dynamic requests answered within it are "fast".</summary>
    public const double FastSeconds = 2.0;

    private long _requests;
    private long _platformErrors;
    private long _appErrors;
    private long _dynamic;
    private long _dynamicFast;
    private long _static;
    private long _probes;
    private long _probesOk;

    public void Record(RequestClass requestClass, int statusCode, double seconds, ResponseOrigin origin)
    {
        Interlocked.Increment(ref _requests);
        if (statusCode >= 500)
        {
            Interlocked.Increment(ref origin == ResponseOrigin.Host ? ref _platformErrors : ref _appErrors);
        }

        if (requestClass == RequestClass.Static)
        {
            Interlocked.Increment(ref _static);
            return;
        }

        Interlocked.Increment(ref _dynamic);
        if (seconds < FastSeconds)
        {
            Interlocked.Increment(ref _dynamicFast);
        }
    }

    /// <summary>One synthetic probe of the app's health path and whether it found the app up.</summary>
    public void RecordProbe(bool ok)
    {
        Interlocked.Increment(ref _probes);
        if (ok)
        {
            Interlocked.Increment(ref _probesOk);
        }
    }

    public SloCounts Read() => new(
        Interlocked.Read(ref _requests),
        Interlocked.Read(ref _platformErrors),
        Interlocked.Read(ref _appErrors),
        Interlocked.Read(ref _dynamic),
        Interlocked.Read(ref _dynamicFast),
        Interlocked.Read(ref _static),
        Interlocked.Read(ref _probes),
        Interlocked.Read(ref _probesOk));
}
