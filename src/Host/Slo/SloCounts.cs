namespace PyPE.Host.Slo;

/// <summary>SLI counts: cumulative (<see cref="SloCounters.Read"/>) or for one minute (a difference of two).</summary>
internal readonly record struct SloCounts(long Requests, long PlatformErrors, long AppErrors, long Dynamic, long DynamicFast, long Static)
{
    public bool IsEmpty => Requests == 0;

    public static SloCounts operator -(SloCounts now, SloCounts before) => new(
        now.Requests - before.Requests,
        now.PlatformErrors - before.PlatformErrors,
        now.AppErrors - before.AppErrors,
        now.Dynamic - before.Dynamic,
        now.DynamicFast - before.DynamicFast,
        now.Static - before.Static);

    public static SloCounts operator +(SloCounts a, SloCounts b) => new(
        a.Requests + b.Requests,
        a.PlatformErrors + b.PlatformErrors,
        a.AppErrors + b.AppErrors,
        a.Dynamic + b.Dynamic,
        a.DynamicFast + b.DynamicFast,
        a.Static + b.Static);
}
