using System.Runtime.InteropServices;
using PyPE.LoadTests.Reporting;
using PyPE.LoadTests.Running;

namespace PyPE.LoadTests;

/// <summary>One run of the suite, from options to written reports (also called by the test suite's smoke run).</summary>
public static class LoadTest
{
    /// <summary>Runs the plan; for a capacity search the returned report is the highest step that held (or the first, failed, one).</summary>
    public static async Task<RunReport> RunAsync(LoadTestOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        if (options.Plan != LoadPlan.Capacity)
        {
            var shape = options.Plan == LoadPlan.Ramp ? options.Ramp : RateShape.Constant;
            var report = await RunOnceAsync(options, options.Scenarios, options.Duration, shape, options.Warmup, output, cancellationToken);
            await WriteAsync(report, options.OutputFolder, output);
            return report;
        }

        return (await SearchCapacityAsync(options, output, cancellationToken)).Verdict;
    }

    /// <summary>
    /// Raises every scenario's rate step by step (1x, 2x, 3x ... of the configured rates) until a threshold
    /// fails, and reports the highest step that held.
    /// </summary>
    public static async Task<CapacityReport> SearchCapacityAsync(LoadTestOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        var steps = new List<RunReport>();
        for (var factor = 1; factor <= options.MaxSteps && !cancellationToken.IsCancellationRequested; factor++)
        {
            var scaled = options.Scenarios.Select(s => s with { RatePerSecond = s.RatePerSecond * factor }).ToList();
            await output.WriteLineAsync($"Capacity step {factor}: {factor}x the rates");
            // One warm-up, before the first step: later steps start on a host the previous step has warmed.
            var warmup = factor == 1 ? options.Warmup : TimeSpan.Zero;
            var report = await RunOnceAsync(options, scaled, options.StepDuration, RateShape.Constant, warmup, output, cancellationToken);
            steps.Add(report);
            await ReportWriter.WriteAsync(report, Path.Combine(options.OutputFolder, $"step-{factor}"));
            if (!report.Passed)
            {
                break;
            }
        }

        var capacity = new CapacityReport(steps, steps.LastOrDefault(s => s.Passed));
        var files = await ReportWriter.WriteCapacityAsync(capacity, options.OutputFolder);
        await output.WriteLineAsync(ReportWriter.CapacityMarkdown(capacity));
        await output.WriteLineAsync($"Reports: {string.Join(", ", files)} (and each step's in step-N/)");
        return capacity;
    }

    private static async Task<RunReport> RunOnceAsync(
        LoadTestOptions options, List<Scenario> scenarios, TimeSpan duration, RateShape shape, TimeSpan warmup, TextWriter output, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.MaxInFlight,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        using var client = new HttpClient(handler) { BaseAddress = options.Target, Timeout = Timeout.InfiniteTimeSpan };
        if (warmup > TimeSpan.Zero)
        {
            await WarmUpAsync(client, options, scenarios, warmup, shape, output, cancellationToken);
        }

        var runner = new OpenModelRunner(client, new RunSettings(duration, options.RequestTimeout, options.MaxInFlight, shape));
        var startedAt = DateTimeOffset.UtcNow;
        var ramp = shape == RateShape.Constant ? "" : $" (rates times {shape.From:0.##} → {shape.To:0.##})";
        await output.WriteLineAsync($"PyPE.LoadTests: {scenarios.Count} scenario(s) against {options.Target} for {duration.TotalSeconds:0.#} s{ramp}: "
            + string.Join(", ", scenarios.Select(s => $"{s.Name} {s.RatePerSecond:0.#}/s")));
        var progress = new TerminalProgress(output, !Console.IsOutputRedirected && output == Console.Out);
        var results = await runner.RunAsync(scenarios, progress, cancellationToken);
        progress.Finish();
        return new RunReport(
            options.Target.ToString(),
            startedAt,
            duration.TotalSeconds,
            options.RequestTimeout.TotalSeconds,
            options.MaxInFlight,
            $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}",
            results,
            SloThresholds.Evaluate(results, duration))
        {
            Plan = shape == RateShape.Constant ? "constant" : $"ramp {shape.From:0.##}x → {shape.To:0.##}x",
            WarmupSeconds = warmup.TotalSeconds,
        };
    }

    /// <summary>
    /// Offers the run's starting rates for <paramref name="warmup"/> on the same client (its connections stay
    /// open for the run) and forgets the results but for one summary line.
    /// </summary>
    private static async Task WarmUpAsync(HttpClient client, LoadTestOptions options, List<Scenario> scenarios, TimeSpan warmup, RateShape shape, TextWriter output, CancellationToken cancellationToken)
    {
        var starting = shape == RateShape.Constant ? scenarios : scenarios.Select(s => s with { RatePerSecond = s.RatePerSecond * shape.From }).ToList();
        await output.WriteLineAsync($"Warm-up: {warmup.TotalSeconds:0.#} s at the starting rates, not counted");
        var runner = new OpenModelRunner(client, new RunSettings(warmup, options.RequestTimeout, options.MaxInFlight, RateShape.Constant));
        var results = await runner.RunAsync(starting, new Progress<RunProgress>(), cancellationToken);
        await output.WriteLineAsync($"Warm-up done: {results.Sum(r => r.Completed)} answered, {results.Sum(r => r.Errors)} errors, {results.Sum(r => r.Dropped)} dropped");
    }

    private static async Task WriteAsync(RunReport report, string folder, TextWriter output)
    {
        var files = await ReportWriter.WriteAsync(report, folder);
        await output.WriteLineAsync(ReportWriter.Markdown(report));
        await output.WriteLineAsync($"Reports: {string.Join(", ", files)}");
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
