using System.Globalization;
using PyPE.LoadTests.Running;

namespace PyPE.LoadTests;

/// <summary>The command line of the SLO suite; every mistake is reported with the option it concerns.</summary>
public sealed record LoadTestOptions
{
    /// <summary>The SLA's rates: 4,500 trivial (static) and 1,000 page requests per minute.</summary>
    public const double SlaStaticPerSecond = SloThresholds.StaticPerMinuteTarget / 60;

    public const double SlaPagePerSecond = SloThresholds.PagePerMinuteTarget / 60;

    public const string Usage = """
        PyPE.LoadTests — open-model SLO load test (constant arrival rate, latency from the intended start).

          --target URL            the host's public address (default http://127.0.0.1:8080)
          --sla-scale N           the SLA's rates times N: static /apps/directory/static/css/site.css at 75·N/s and
                                  page /apps/directory/ at 16.7·N/s (the Django sample)
          --scenario NAME=CLASS:PATH@RATE
                                  one more scenario; CLASS is static or dynamic, RATE in requests per second
                                  (e.g. json=dynamic:/apps/directory/api/ping@50); repeatable
          --duration SECONDS      how long requests keep starting (default 60)
          --warmup SECONDS        offer the load this long first, not counted (default none: a cold host is
                                  measured from its first request); the report says how long it was
          --timeout SECONDS       a request without an answer by then is an error (default 10)
          --max-in-flight N       open requests at once; beyond, requests are dropped and counted (default 2000)
          --out FOLDER            where the reports go (default artifacts/loadtest)
          --plan constant|ramp|capacity
                                  constant (default): the rates for the whole duration;
                                  ramp: the rates times a factor moving linearly from --ramp-from to --ramp-to;
                                  capacity: steps of --step-duration at 1x, 2x, 3x ... the rates (at most
                                  --max-steps), until a threshold fails, then --refine-steps halvings of the
                                  gap between the last step that held and the one that broke; reports the
                                  highest rate that held
          --ramp-from F, --ramp-to T   factors of the ramp (default 0.1 and 1)
          --step-duration SECONDS, --max-steps N, --refine-steps N
                                  the capacity search's steps (default 20 s, 10, 3)

        Exit code: 0 when every SLO threshold holds, 1 when one fails, 2 for a usage error, 0 for --help.
        """;

    public Uri Target { get; init; } = new("http://127.0.0.1:8080");

    public List<Scenario> Scenarios { get; init; } = [];

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Load offered before the measured run and not counted (JIT, pools, caches of client and server).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.Zero;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxInFlight { get; init; } = 2000;

    public string OutputFolder { get; init; } = Path.Combine("artifacts", "loadtest");

    public LoadPlan Plan { get; init; } = LoadPlan.Constant;

    public RateShape Ramp { get; init; } = new(0.1, 1);

    public TimeSpan StepDuration { get; init; } = TimeSpan.FromSeconds(20);

    public int MaxSteps { get; init; } = 10;

    /// <summary>Capacity search: halvings of the gap between the last whole step that held and the one that broke.</summary>
    public int RefineSteps { get; init; } = 3;

    public static (LoadTestOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var options = new LoadTestOptions();
        var scenarios = new List<Scenario>();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                return (null, "");
            }

            if (i + 1 >= args.Count)
            {
                return (null, $"{name}: a value is missing");
            }

            var value = args[++i];
            switch (name)
            {
                case "--target":
                    if (!Uri.TryCreate(value, UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
                    {
                        return (null, $"--target: '{value}' is not an http(s) URL");
                    }

                    options = options with { Target = target };
                    break;
                case "--sla-scale":
                    if (!TryPositive(value, out var scale))
                    {
                        return (null, $"--sla-scale: '{value}' is not a positive number");
                    }

                    scenarios.Add(new Scenario("static", RequestClass.Static, "/apps/directory/static/css/site.css", SlaStaticPerSecond * scale));
                    scenarios.Add(new Scenario("page", RequestClass.Dynamic, "/apps/directory/", SlaPagePerSecond * scale));
                    break;
                case "--scenario":
                    var (scenario, error) = ParseScenario(value);
                    if (scenario is null)
                    {
                        return (null, $"--scenario: {error}");
                    }

                    scenarios.Add(scenario);
                    break;
                case "--warmup":
                    if (!TryPositive(value.TrimEnd('s'), out var warmup))
                    {
                        return (null, $"--warmup: '{value}' is not a positive number of seconds");
                    }

                    options = options with { Warmup = TimeSpan.FromSeconds(warmup) };
                    break;
                case "--duration" or "--timeout":
                    if (!TryPositive(value.TrimEnd('s'), out var seconds))
                    {
                        return (null, $"{name}: '{value}' is not a positive number of seconds");
                    }

                    options = name == "--duration" ? options with { Duration = TimeSpan.FromSeconds(seconds) } : options with { RequestTimeout = TimeSpan.FromSeconds(seconds) };
                    break;
                case "--max-in-flight":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max < 1)
                    {
                        return (null, $"--max-in-flight: '{value}' is not a whole number above 0");
                    }

                    options = options with { MaxInFlight = max };
                    break;
                case "--out":
                    options = options with { OutputFolder = value };
                    break;
                case "--plan":
                    if (!Enum.TryParse<LoadPlan>(value, ignoreCase: true, out var plan) || int.TryParse(value, CultureInfo.InvariantCulture, out _))
                    {
                        return (null, $"--plan: '{value}' is not constant, ramp or capacity");
                    }

                    options = options with { Plan = plan };
                    break;
                case "--ramp-from" or "--ramp-to":
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor) || factor < 0 || !double.IsFinite(factor))
                    {
                        return (null, $"{name}: '{value}' is not a factor of 0 or more");
                    }

                    options = options with { Ramp = name == "--ramp-from" ? options.Ramp with { From = factor } : options.Ramp with { To = factor } };
                    break;
                case "--step-duration":
                    if (!TryPositive(value.TrimEnd('s'), out var step))
                    {
                        return (null, $"--step-duration: '{value}' is not a positive number of seconds");
                    }

                    options = options with { StepDuration = TimeSpan.FromSeconds(step) };
                    break;
                case "--max-steps":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var steps) || steps < 1)
                    {
                        return (null, $"--max-steps: '{value}' is not a whole number above 0");
                    }

                    options = options with { MaxSteps = steps };
                    break;
                case "--refine-steps":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var refine))
                    {
                        return (null, $"--refine-steps: '{value}' is not a whole number");
                    }

                    options = options with { RefineSteps = refine };
                    break;
                default:
                    return (null, $"unknown option '{name}'");
            }
        }

        if (scenarios.Count == 0)
        {
            return (null, "no scenario: give --sla-scale N or at least one --scenario");
        }

        if (options.Plan == LoadPlan.Ramp && options.Ramp.From + options.Ramp.To <= 0)
        {
            return (null, "--ramp-from and --ramp-to are both 0: the ramp sends nothing");
        }

        if (scenarios.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() != scenarios.Count)
        {
            return (null, "two scenarios have the same name");
        }

        return (options with { Scenarios = scenarios }, null);
    }

    private static (Scenario? Scenario, string? Error) ParseScenario(string text)
    {
        // name=class:path@rate
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var at = text.LastIndexOf('@');
        if (equals < 1 || colon < equals || at < colon)
        {
            return (null, $"'{text}' is not NAME=CLASS:PATH@RATE");
        }

        var name = text[..equals];
        if (!Enum.TryParse<RequestClass>(text[(equals + 1)..colon], ignoreCase: true, out var requestClass))
        {
            return (null, $"'{text[(equals + 1)..colon]}' is not a class (static or dynamic)");
        }

        var path = text[(colon + 1)..at];
        if (!path.StartsWith('/'))
        {
            return (null, $"the path '{path}' must start with '/'");
        }

        return TryPositive(text[(at + 1)..], out var rate)
            ? (new Scenario(name, requestClass, path, rate), null)
            : (null, $"the rate '{text[(at + 1)..]}' is not a positive number of requests per second");
    }

    private static bool TryPositive(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value > 0 && double.IsFinite(value);
}

/// <summary>How the load is offered over a run.</summary>
public enum LoadPlan
{
    /// <summary>The scenarios' rates for the whole duration.</summary>
    Constant,

    /// <summary>The rates times a factor moving linearly over the duration.</summary>
    Ramp,

    /// <summary>Steps at 1x, 2x, 3x ... the rates until a threshold fails.</summary>
    Capacity,
}
