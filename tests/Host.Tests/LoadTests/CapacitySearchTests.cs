using PyPE.LoadTests;

namespace PyPE.Host.Tests.LoadTests;

/// <summary>The capacity search's order of factors, against a host whose capacity is known exactly (a predicate).</summary>
public sealed class CapacitySearchTests
{
    [Theory]
    [InlineData(3.4, 10, 3, new[] { 1, 2, 3, 4, 3.5, 3.25, 3.375 })] // whole steps to the first that breaks, then halvings
    [InlineData(3.4, 10, 0, new[] { 1.0, 2, 3, 4 })]
    [InlineData(20, 3, 3, new[] { 1.0, 2, 3 })] // every step held: nothing to narrow, the capacity is above 3
    [InlineData(0.5, 10, 3, new[] { 1.0 })] // the first step broke: below the configured rates
    public async Task Factors_RiseByWholeSteps_ThenHalveTheGap(double capacity, int maxSteps, int refineSteps, double[] expected)
    {
        var steps = await LoadTest.SearchFactorsAsync(maxSteps, refineSteps, factor => Task.FromResult(factor), factor => factor <= capacity, CancellationToken.None);

        Assert.Equal(expected, steps.Select(s => s.Factor));
        Assert.All(steps, s => Assert.Equal(s.Factor, s.Step));
    }

    [Theory]
    [InlineData(new[] { "--refine-steps", "x" }, "--refine-steps: 'x' is not a whole number")]
    [InlineData(new[] { "--refine-steps", "-1" }, "--refine-steps: '-1' is not a whole number")]
    public void BadRefineSteps_SayWhatIsWrong(string[] args, string expected)
    {
        var (options, error) = LoadTestOptions.Parse(["--scenario", "a=static:/a@1", .. args]);
        Assert.Null(options);
        Assert.Equal(expected, error);
    }
}
