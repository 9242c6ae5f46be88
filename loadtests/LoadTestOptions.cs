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
          --timeout SECONDS       a request without an answer by then is an error (default 10)
          --max-in-flight N       open requests at once; beyond, requests are dropped and counted (default 2000)
          --out FOLDER            where report.json and report.md go (default artifacts/loadtest)

        Exit code: 0 when every SLO threshold holds, 1 when one fails, 2 for a usage error.
        """;

    public Uri Target { get; init; } = new("http://127.0.0.1:8080");

    public List<Scenario> Scenarios { get; init; } = [];

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxInFlight { get; init; } = 2000;

    public string OutputFolder { get; init; } = Path.Combine("artifacts", "loadtest");

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
                default:
                    return (null, $"unknown option '{name}'");
            }
        }

        if (scenarios.Count == 0)
        {
            return (null, "no scenario: give --sla-scale N or at least one --scenario");
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
