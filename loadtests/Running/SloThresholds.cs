namespace PyPE.LoadTests.Running;

/// <summary>
/// The SLA's objectives as pass/fail checks on a run: 90 % of web (dynamic) requests under 2 s, errors within
/// the 1.24 % availability budget, and — when the run offered that much — at least 4,500 trivial (static) and
/// 1,000 page (dynamic) requests answered per minute.
/// </summary>
public static class SloThresholds
{
    public const double FastShareTarget = 0.90;
    public const double ErrorBudget = 1 - 0.9876;
    public const double StaticPerMinuteTarget = 4500;
    public const double PagePerMinuteTarget = 1000;

    public static IReadOnlyList<ThresholdResult> Evaluate(IReadOnlyList<ScenarioResult> results, TimeSpan duration)
    {
        var checks = new List<ThresholdResult>();
        var dynamic = results.Where(r => r.Scenario.Class == RequestClass.Dynamic).ToList();
        if (dynamic.Count > 0)
        {
            var scheduled = dynamic.Sum(r => r.Scheduled);
            var fast = dynamic.Sum(r => r.Fast);
            var share = scheduled == 0 ? 1 : (double)fast / scheduled;
            checks.Add(new("latency", $"dynamic requests answered under 2 s ≥ {FastShareTarget:P0}", share, FastShareTarget, share >= FastShareTarget));
        }

        var all = results.Sum(r => r.Scheduled);
        var failed = results.Sum(r => r.Errors + r.Dropped);
        var errorShare = all == 0 ? 0 : (double)failed / all;
        checks.Add(new("errors", $"errors and dropped requests ≤ {ErrorBudget:P2}", errorShare, ErrorBudget, errorShare <= ErrorBudget));

        checks.Add(Throughput("static_throughput", RequestClass.Static, StaticPerMinuteTarget, results, duration));
        checks.Add(Throughput("page_throughput", RequestClass.Dynamic, PagePerMinuteTarget, results, duration));
        return checks;
    }

    private static ThresholdResult Throughput(string id, RequestClass requestClass, double target, IReadOnlyList<ScenarioResult> results, TimeSpan duration)
    {
        var ofClass = results.Where(r => r.Scenario.Class == requestClass).ToList();
        var minutes = Math.Max(duration.TotalMinutes, 1e-9);
        var offered = ofClass.Sum(r => r.Scheduled) / minutes;
        var answered = ofClass.Sum(r => r.Completed - r.Errors) / minutes;
        var name = $"{requestClass.ToString().ToLowerInvariant()} requests answered per minute ≥ {target:N0}";
        // A run that offers less than the target cannot show whether the target holds: not a failure, not a pass.
        return offered < target
            ? new(id, name, answered, target, null, $"not checked: the plan offered {offered:N0}/min")
            : new(id, name, answered, target, answered >= target);
    }
}

/// <summary>One threshold: the measured value against its target; <c>Passed</c> is null when the run could not tell.</summary>
public sealed record ThresholdResult(string Id, string Name, double Value, double Target, bool? Passed, string? Note = null)
{
    /// <summary>The measured value as reports show it: a share in percent, a rate as a whole number.</summary>
    public string ValueText => Format(Value);

    public string TargetText => Format(Target);

    /// <summary>pass, FAIL, or why it was not checked.</summary>
    public string ResultText => Passed switch { true => "pass", false => "FAIL", _ => Note ?? "not checked" };

    private string Format(double value) => Id is "latency" or "errors"
        ? value.ToString("P2", System.Globalization.CultureInfo.InvariantCulture)
        : value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}
