namespace PyPE.Host.Slo;

/// <summary>SLI counts: cumulative (<see cref="SloCounters.Read"/>) or for one minute (a difference of two).</summary>
/// <param name="Requests">Requests answered (synthetic probes excluded).</param>
/// <param name="PlatformErrors">5xx answered by the host itself (rejections, timeouts, dead workers).</param>
/// <param name="AppErrors">5xx the app answered itself.</param>
/// <param name="Dynamic">Requests handled by a worker.</param>
/// <param name="DynamicFast">Of those, answered in under <see cref="SloCounters.FastSeconds"/>.</param>
/// <param name="Static">Requests for static files served by the host.</param>
/// <param name="Probes">Synthetic probes of the app's health path.</param>
/// <param name="ProbesOk">Of those, answered below 500 within the probe's timeout.</param>
internal readonly record struct SloCounts(long Requests, long PlatformErrors, long AppErrors, long Dynamic, long DynamicFast, long Static, long Probes = 0, long ProbesOk = 0)
{
    public bool IsEmpty => Requests == 0 && Probes == 0;

    public static SloCounts operator -(SloCounts now, SloCounts before) => new(
        now.Requests - before.Requests,
        now.PlatformErrors - before.PlatformErrors,
        now.AppErrors - before.AppErrors,
        now.Dynamic - before.Dynamic,
        now.DynamicFast - before.DynamicFast,
        now.Static - before.Static,
        now.Probes - before.Probes,
        now.ProbesOk - before.ProbesOk);

    public static SloCounts operator +(SloCounts a, SloCounts b) => new(
        a.Requests + b.Requests,
        a.PlatformErrors + b.PlatformErrors,
        a.AppErrors + b.AppErrors,
        a.Dynamic + b.Dynamic,
        a.DynamicFast + b.DynamicFast,
        a.Static + b.Static,
        a.Probes + b.Probes,
        a.ProbesOk + b.ProbesOk);
}
