using PyPE.LoadTests.Running;

namespace PyPE.Host.Tests.LoadTests;

public sealed class RateShapeTests
{
    [Fact]
    public void Constant_SpacesRequestsEvenly()
    {
        var duration = TimeSpan.FromSeconds(10);
        Assert.Equal(100, RateShape.Constant.Count(10, duration));
        Assert.Equal(TimeSpan.FromSeconds(2.5), RateShape.Constant.DueTime(25, 10, duration));
    }

    [Fact]
    public void Ramp_FromZeroToFull_SendsHalfAsMuch_AndCrowdsTheEnd()
    {
        var ramp = new RateShape(0, 1);
        var duration = TimeSpan.FromSeconds(10);

        Assert.Equal(50, ramp.Count(10, duration));
        // The rate grows linearly from 0: n requests have arrived by t = sqrt(2·n·D / rate), so the 12th is due
        // at sqrt(24) s, just before 5 s, when a quarter (12.5) have arrived.
        Assert.Equal(Math.Sqrt(24), ramp.DueTime(12, 10, duration).TotalSeconds, 0.001);
        Assert.Equal(10.0, ramp.DueTime(50, 10, duration).TotalSeconds, 0.001);
        var dues = Enumerable.Range(0, 50).Select(n => ramp.DueTime(n, 10, duration)).ToList();
        Assert.Equal(dues.Order().ToList(), dues);
        Assert.True(dues[49] - dues[48] < dues[2] - dues[1], "arrivals come closer together as the rate rises");
    }

    [Fact]
    public void RampDown_StaysWithinTheRun()
    {
        var ramp = new RateShape(2, 0);
        var duration = TimeSpan.FromSeconds(4);
        var count = ramp.Count(5, duration);

        Assert.Equal(20, count);
        // The rate falls from 10/s to 0: n have arrived by t where 10·t − 1.25·t² = n, so the last of the 20 is
        // due at (10 − √5) / 2.5 ≈ 3.106 s, inside the run without the end clamp, and arrivals spread out.
        var dues = Enumerable.Range(0, (int)count).Select(n => ramp.DueTime(n, 5, duration).TotalSeconds).ToList();
        Assert.Equal((10 - Math.Sqrt(5)) / 2.5, dues[^1], 0.001);
        Assert.Equal(dues.Order().ToList(), dues);
        Assert.True(dues[^1] - dues[^2] > dues[1] - dues[0], "arrivals spread out as the rate falls");
    }
}
