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
    public void AClientThatFellBehind_IsSaidToHave_InEveryReport()
    {
        var report = Report(startLagP99Ms: 7.5);

        Assert.Contains("requests started up to 7.5 ms late at p99", ClientLagNote.For(report), StringComparison.Ordinal);
        Assert.Contains("The client fell behind its schedule", ReportWriter.Markdown(report), StringComparison.Ordinal);
        Assert.Contains("The client fell behind its schedule", HtmlReport.Render(report), StringComparison.Ordinal);
    }

    private static RunReport Report(double startLagP99Ms)
    {
        var latency = new SortedDictionary<double, double> { [50] = 1, [75] = 1, [90] = 2, [95] = 2, [99] = 9, [99.9] = 9, [100] = 9 };
        var lag = new SortedDictionary<double, double> { [50] = 0.05, [99] = startLagP99Ms, [100] = startLagP99Ms };
        var scenario = new ScenarioResult(new Scenario("ping", RequestClass.Dynamic, "/ping", 10), 10, 10, 0, 0, 10, 10, latency,
            new SortedDictionary<int, long> { [200] = 10 }, [new PercentilePoint(50, 1), new PercentilePoint(100, 9)], [10], [0], [2], lag);
        return new RunReport("http://127.0.0.1:8080/", DateTimeOffset.UnixEpoch, 1, 10, 100, "test", [scenario], []);
    }
}
