using PyPE.LoadTests.Reporting;
using PyPE.LoadTests.Running;

namespace PyPE.Host.Tests.LoadTests;

public sealed class ClientLagNoteTests
{
    [Fact]
    public void AClientThatStartedOnTime_GetsNoNote()
    {
        var report = Report(startLagP99Ms: 0.2);

        Assert.Null(ClientLagNote.For(report));
        Assert.DoesNotContain("fell behind", ReportWriter.Markdown(report), StringComparison.Ordinal);
    }

    [Fact]
    public void ALagSmallBesideTheLatencies_GetsNoNote()
    {
        Assert.Null(ClientLagNote.For(Report(startLagP99Ms: 5, latencyP99Ms: 2000)));
    }

    [Fact]
    public void AClientThatFellBehind_IsSaidToHave_InEveryReport()
    {
        var report = Report(startLagP99Ms: 7.5);

        Assert.Contains("ping: requests started up to 7.5 ms late at p99, beside a p99 latency of 9 ms", ClientLagNote.For(report), StringComparison.Ordinal);
        Assert.Contains("The client fell behind its schedule", ReportWriter.Markdown(report), StringComparison.Ordinal);
        Assert.Contains("The client fell behind its schedule", HtmlReport.Render(report), StringComparison.Ordinal);
    }

    private static RunReport Report(double startLagP99Ms, double latencyP99Ms = 9)
    {
        var latency = new SortedDictionary<double, double> { [50] = 1, [75] = 1, [90] = 2, [95] = 2, [99] = latencyP99Ms, [99.9] = latencyP99Ms, [100] = latencyP99Ms };
        var lag = new SortedDictionary<double, double> { [50] = 0.05, [99] = startLagP99Ms, [100] = startLagP99Ms };
        var scenario = new ScenarioResult(new Scenario("ping", RequestClass.Dynamic, "/ping", 10), 10, 10, 0, 0, 10, 10, latency,
            new SortedDictionary<int, long> { [200] = 10 }, [new PercentilePoint(50, 1), new PercentilePoint(100, 9)], [10], [0], [2], lag);
        return new RunReport("http://127.0.0.1:8080/", DateTimeOffset.UnixEpoch, 1, 10, 100, "test", [scenario], []);
    }
}
