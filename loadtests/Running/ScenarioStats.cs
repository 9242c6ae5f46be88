using HdrHistogram;

namespace PyPE.LoadTests.Running;

/// <summary>
/// What one scenario measured. Latency is from each request's intended start (its slot in the schedule), not
/// from when it was actually sent, so a stalled server cannot hide behind a stalled client (no coordinated
/// omission). Thread-safe: requests complete on many threads.
/// </summary>
public sealed class ScenarioStats(Scenario scenario, TimeSpan duration)
{
    /// <summary>Latencies are recorded in microseconds, up to this.</summary>
    public const long HighestTrackableMicroseconds = 10L * 60 * 1_000_000;

    /// <summary>The SLO's latency threshold.</summary>
    public static readonly TimeSpan FastThreshold = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly LongHistogram _latency = new(HighestTrackableMicroseconds, 3);
    private readonly LongHistogram _startLag = new(HighestTrackableMicroseconds, 2);
    private readonly long[] _completedPerSecond = new long[Seconds(duration)];
    private readonly long[] _errorsPerSecond = new long[Seconds(duration)];
    private readonly LongHistogram?[] _perSecond = new LongHistogram?[Seconds(duration)];
    private readonly Dictionary<int, long> _statuses = [];

    public Scenario Scenario { get; } = scenario;

    private long _scheduled;
    private long _dropped;

    public long Scheduled => Interlocked.Read(ref _scheduled);

    public long Completed { get; private set; }

    /// <summary>Answers of 5xx, and requests that got no answer (connection failures, client timeouts).</summary>
    public long Errors { get; private set; }

    /// <summary>Requests that could not start: the client's in-flight cap was reached (the server fell behind).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Completed without error within <see cref="FastThreshold"/> of the intended start.</summary>
    public long Fast { get; private set; }

    /// <summary>
    /// Called by the schedule's thread only, and without the lock: counting a start never waits for a completion
    /// thread that holds the lock and has lost its core.
    /// </summary>
    /// <param name="startLag">How late the client started the request (after its due time): the load generator's own
    /// error, already inside the latency, which counts from the due time.</param>
    public void RecordScheduled(TimeSpan startLag)
    {
        Interlocked.Increment(ref _scheduled);
        _startLag.RecordValue(Math.Clamp((long)(startLag.TotalMilliseconds * 1000), 0, HighestTrackableMicroseconds));
    }

    /// <summary>Called by the schedule's thread only (see <see cref="RecordScheduled"/>).</summary>
    public void RecordDropped()
    {
        Interlocked.Increment(ref _scheduled);
        Interlocked.Increment(ref _dropped);
    }

    /// <param name="second">Seconds since the run started when the request was due.</param>
    /// <param name="latency">From the intended start to the end of the response.</param>
    /// <param name="status">HTTP status, or 0 when no answer came (both 0 and 400 or above count as errors).</param>
    public void RecordCompleted(int second, TimeSpan latency, int status)
    {
        var micros = Math.Clamp((long)(latency.TotalMilliseconds * 1000), 1, HighestTrackableMicroseconds);
        // No answer, or an answer that is not a page: a 404 means the scenario asks for something that is not there,
        // a 429 or 503 that the server turned the request away; neither is the service the SLO is about.
        var error = status is 0 or >= 400;
        lock (_lock)
        {
            Completed++;
            _latency.RecordValue(micros);
            _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
            var slot = Math.Clamp(second, 0, _completedPerSecond.Length - 1);
            _completedPerSecond[slot]++;
            if (error)
            {
                Errors++;
                _errorsPerSecond[slot]++;
            }
            else if (latency < FastThreshold)
            {
                Fast++;
            }

            (_perSecond[slot] ??= new LongHistogram(HighestTrackableMicroseconds, 2)).RecordValue(micros);
        }
    }

    /// <summary>One slot per started second of the run (at least one).</summary>
    private static int Seconds(TimeSpan duration) => Math.Max(1, (int)Math.Ceiling(duration.TotalSeconds));

    /// <summary>The latency distribution as HdrHistogram's percentile steps (halving the distance to 100 % each time).</summary>
    private List<PercentilePoint> Curve()
    {
        var points = new List<PercentilePoint>();
        if (_latency.TotalCount == 0)
        {
            return points;
        }

        foreach (var step in _latency.Percentiles(5))
        {
            points.Add(new PercentilePoint(step.Percentile, step.ValueIteratedTo / 1000.0));
        }

        return points;
    }

    /// <summary>A consistent copy of everything measured.</summary>
    public ScenarioResult Snapshot(TimeSpan elapsed)
    {
        lock (_lock)
        {
            var percentiles = new SortedDictionary<double, double>();
            foreach (var p in (double[])[50, 75, 90, 95, 99, 99.9, 100])
            {
                percentiles[p] = _latency.TotalCount == 0 ? 0 : _latency.GetValueAtPercentile(p) / 1000.0;
            }

            var startLag = new SortedDictionary<double, double>();
            foreach (var p in (double[])[50, 99, 100])
            {
                startLag[p] = _startLag.TotalCount == 0 ? 0 : _startLag.GetValueAtPercentile(p) / 1000.0;
            }

            return new ScenarioResult(
                Scenario,
                Scheduled,
                Completed,
                Errors,
                Dropped,
                Fast,
                elapsed.TotalSeconds > 0 ? Completed / elapsed.TotalSeconds : 0,
                percentiles,
                new SortedDictionary<int, long>(_statuses),
                Curve(),
                [.. _completedPerSecond],
                [.. _errorsPerSecond],
                [.. _perSecond.Select(h => h is null ? 0 : h.GetValueAtPercentile(90) / 1000.0)],
                startLag);
        }
    }
}

/// <summary>One scenario's results (latencies in milliseconds). StartLagPercentilesMs: how late the client itself started
/// requests after their due times (p50, p99, max) — part of every latency; large values mean the client, not the
/// server, fell behind.</summary>
public sealed record ScenarioResult(
    Scenario Scenario,
    long Scheduled,
    long Completed,
    long Errors,
    long Dropped,
    long Fast,
    double ThroughputPerSecond,
    IReadOnlyDictionary<double, double> LatencyPercentilesMs,
    IReadOnlyDictionary<int, long> Statuses,
    IReadOnlyList<PercentilePoint> LatencyCurve,
    long[] CompletedPerSecond,
    long[] ErrorsPerSecond,
    double[] P90MsPerSecond,
    IReadOnlyDictionary<double, double> StartLagPercentilesMs)
{
    /// <summary>Below this p99 start lag the client kept to its schedule, whatever the latencies (normally 0.1–0.5 ms here).</summary>
    public const double ClientBehindMs = 1;

    /// <summary>Above this share of the p99 latency, the p99 start lag shaped the latencies measured.</summary>
    public const double ClientBehindShareOfP99 = 0.1;

    /// <summary>
    /// The client started a hundredth of its requests late by more than <see cref="ClientBehindMs"/> and more than a
    /// tenth of the p99 latency: it, not only the server, shaped the latencies (a 3 ms lag matters beside a 5 ms p99,
    /// not beside a 2 s one).
    /// </summary>
    public bool ClientFellBehind => StartLagPercentilesMs.GetValueOrDefault(99) > Math.Max(ClientBehindMs, ClientBehindShareOfP99 * LatencyPercentilesMs.GetValueOrDefault(99));

    /// <summary>Share of scheduled requests answered without error within 2 s (dropped ones count as slow).</summary>
    public double FastShare => Scheduled == 0 ? 1 : (double)Fast / Scheduled;
}

/// <summary>One point of a latency percentile curve.</summary>
public sealed record PercentilePoint(double Percentile, double LatencyMs);
