using Prometheus;
using PyPE.Host.Slo;

namespace PyPE.Host.Metrics;

/// <summary>
/// One app's request metric children, resolved once: recording a request is an array index and an
/// atomic add, with no label lookup or allocation.
/// </summary>
internal sealed class AppMetrics
{
    private static readonly string[] ClassNames = ["static", "dynamic"];
    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];
    private static readonly string[] Origins = ["app", "host"];
    private static readonly string[] RejectNames = ["queue_full", "queue_timeout", "request_timeout", "body_too_large", "app_failed", "stopping", "worker_lost"];

    private readonly Counter.Child[][][] _requests;
    private readonly Histogram.Child[][] _durations;
    private readonly Counter.Child[] _rejected;
    private readonly Histogram.Child _queueWait;
    private readonly SloCounters _slo;

    public AppMetrics(string app, string environment, Counter requests, Histogram durations, Counter rejected, Histogram queueWait, SloCounters slo)
    {
        _slo = slo;
        _requests = [.. ClassNames.Select(c => Origins.Select(o => StatusClasses.Select(s => requests.WithLabels(app, c, s, o, environment)).ToArray()).ToArray())];
        _durations = [.. ClassNames.Select(c => StatusClasses.Select(s => durations.WithLabels(app, c, s, environment)).ToArray())];
        _rejected = [.. RejectNames.Select(r => rejected.WithLabels(app, r, environment))];
        _queueWait = queueWait.WithLabels(app, environment);
    }

    public void RecordRequest(RequestClass requestClass, int statusCode, double seconds, ResponseOrigin origin)
    {
        var statusClass = (uint)(statusCode / 100) - 1;
        if (statusClass > 4)
        {
            statusClass = 4;
        }

        _requests[(int)requestClass][(int)origin][statusClass].Inc();
        _slo.Record(requestClass, statusCode, seconds, origin);
        _durations[(int)requestClass][statusClass].Observe(seconds);
    }

    /// <summary>Time a dynamic request waited for a worker slot (0 when one was free).</summary>
    public void RecordQueueWait(double seconds) => _queueWait.Observe(seconds);

    public void RecordRejected(RejectReason reason) => _rejected[(int)reason].Inc();
}
