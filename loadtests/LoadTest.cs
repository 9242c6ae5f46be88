using System.Runtime.InteropServices;
using PyPE.LoadTests.Reporting;
using PyPE.LoadTests.Running;

namespace PyPE.LoadTests;

/// <summary>One run of the suite, from options to written reports (also called by the test suite's smoke run).</summary>
public static class LoadTest
{
    public static async Task<RunReport> RunAsync(LoadTestOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.MaxInFlight,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        using var client = new HttpClient(handler) { BaseAddress = options.Target, Timeout = Timeout.InfiniteTimeSpan };
        var runner = new OpenModelRunner(client, new RunSettings(options.Duration, options.RequestTimeout, options.MaxInFlight));
        var startedAt = DateTimeOffset.UtcNow;
        await output.WriteLineAsync($"PyPE.LoadTests: {options.Scenarios.Count} scenario(s) against {options.Target} for {options.Duration.TotalSeconds:0.#} s: "
            + string.Join(", ", options.Scenarios.Select(s => $"{s.Name} {s.RatePerSecond:0.#}/s")));
        var progress = new TerminalProgress(output, !Console.IsOutputRedirected && output == Console.Out);
        var results = await runner.RunAsync(options.Scenarios, progress, cancellationToken);
        progress.Finish();

        var report = new RunReport(
            options.Target.ToString(),
            startedAt,
            options.Duration.TotalSeconds,
            options.RequestTimeout.TotalSeconds,
            options.MaxInFlight,
            $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}",
            results,
            SloThresholds.Evaluate(results, options.Duration));
        var files = await ReportWriter.WriteAsync(report, options.OutputFolder);
        await output.WriteLineAsync(ReportWriter.Markdown(report));
        await output.WriteLineAsync($"Reports: {string.Join(", ", files)}");
        return report;
    }
}

/// <summary>The live progress line: rewritten in place on a terminal, a line every few seconds otherwise.</summary>
internal sealed class TerminalProgress(TextWriter output, bool interactive) : IProgress<RunProgress>
{
    private TimeSpan _lastLine = TimeSpan.FromSeconds(-10);

    public void Report(RunProgress value)
    {
        var line = $"{value.Elapsed.TotalSeconds,5:0.0}/{value.Duration.TotalSeconds:0} s  answered {value.Completed}  errors {value.Errors}  dropped {value.Dropped}  in flight {value.InFlight}";
        if (interactive)
        {
            output.Write("\r" + line.PadRight(90));
        }
        else if (value.Elapsed - _lastLine >= TimeSpan.FromSeconds(5))
        {
            _lastLine = value.Elapsed;
            output.WriteLine(line);
        }
    }

    public void Finish()
    {
        if (interactive)
        {
            output.WriteLine();
        }
    }
}
