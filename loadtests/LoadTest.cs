using System.Globalization;
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
    /// fails, then narrows the gap between the last step that held and the one that broke by halving it
    /// (<see cref="LoadTestOptions.RefineSteps"/> times), and reports the highest rate that held.
    /// </summary>
    public static async Task<CapacityReport> SearchCapacityAsync(LoadTestOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        var index = 0;
        var steps = await SearchFactorsAsync(options.MaxSteps, options.RefineSteps, async factor =>
        {
            index++;
            var scaled = options.Scenarios.Select(s => s with { RatePerSecond = s.RatePerSecond * factor }).ToList();
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Capacity step {index}: {factor:0.###}x the rates"));
            // One warm-up, before the first step: later steps start on a host the previous step has warmed.
            var warmup = index == 1 ? options.Warmup : TimeSpan.Zero;
            var report = await RunOnceAsync(options, scaled, options.StepDuration, RateShape.Constant, warmup, output, cancellationToken);
            await ReportWriter.WriteAsync(report, Path.Combine(options.OutputFolder, $"step-{index}"));
            return report;
        }, report => report.Passed, cancellationToken);

        var held = steps.Where(s => s.Step.Passed).OrderBy(s => s.Factor).Select(s => s.Step).LastOrDefault();
        var capacity = new CapacityReport([.. steps.Select(s => s.Step)], held);
        var files = await ReportWriter.WriteCapacityAsync(capacity, options.OutputFolder);
        await output.WriteLineAsync(ReportWriter.CapacityMarkdown(capacity));
        await output.WriteLineAsync($"Reports: {string.Join(", ", files)} (and each step's in step-N/)");
        return capacity;
    }

    /// <summary>
    /// The capacity search's factors, in the order they are run: 1, 2, 3 ... up to <paramref name="maxSteps"/> until
    /// one does not hold, then <paramref name="refineSteps"/> halvings of the gap between the last that held and
    /// the first that did not. Nothing is refined when every step held (the capacity is above the last) or the first
    /// did not (it is below the configured rates).
    /// </summary>
    internal static async Task<List<(double Factor, T Step)>> SearchFactorsAsync<T>(int maxSteps, int refineSteps, Func<double, Task<T>> run, Func<T, bool> holds, CancellationToken cancellationToken)
    {
        var steps = new List<(double Factor, T Step)>();
        double? heldAt = null;
        double? brokeAt = null;
        for (var factor = 1; factor <= maxSteps && !cancellationToken.IsCancellationRequested; factor++)
        {
            var step = await run(factor);
            steps.Add((factor, step));
            if (!holds(step))
            {
                brokeAt = factor;
                break;
            }

            heldAt = factor;
        }

        if (heldAt is not { } low || brokeAt is not { } high)
        {
            return steps;
        }

        for (var i = 0; i < refineSteps && !cancellationToken.IsCancellationRequested; i++)
        {
            var middle = (low + high) / 2;
            var step = await run(middle);
            steps.Add((middle, step));
            if (holds(step))
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return steps;
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
