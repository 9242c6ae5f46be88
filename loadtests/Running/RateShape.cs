namespace PyPE.LoadTests.Running;

/// <summary>
/// How each scenario's rate moves over a run: its configured rate times a factor that goes linearly from
/// <see cref="From"/> to <see cref="To"/> (1 to 1 is a constant rate; 0.1 to 2 a ramp). Request n is due when
/// the expected number of arrivals reaches n.
/// </summary>
public sealed record RateShape(double From, double To)
{
    public static RateShape Constant { get; } = new(1, 1);

    /// <summary>Requests a scenario at <paramref name="rate"/> sends over <paramref name="duration"/>.</summary>
    public long Count(double rate, TimeSpan duration) => (long)Math.Floor(rate * duration.TotalSeconds * (From + To) / 2);

    /// <summary>When request <paramref name="n"/> (from 0) is due: solves rate·(a·t + (b−a)·t²/2D) = n for t.</summary>
    public TimeSpan DueTime(long n, double rate, TimeSpan duration)
    {
        var d = duration.TotalSeconds;
        var slope = (To - From) / d;
        if (Math.Abs(slope) < 1e-12)
        {
            return TimeSpan.FromSeconds(n / (rate * From));
        }

        // (slope/2)·t² + From·t − n/rate = 0, the positive root.
        var c = n / rate;
        var t = (-From + Math.Sqrt(Math.Max(0, (From * From) + (2 * slope * c)))) / slope;
        return TimeSpan.FromSeconds(Math.Clamp(t, 0, d));
    }
}
