using System.Globalization;
using CliWrap;
using CliWrap.Buffered;
using Microsoft.Extensions.Configuration;

namespace PyPE.Supervisor.Runtimes;

/// <summary>
/// Builds the <see cref="RuntimeCatalog"/> from <c>PyPE:Runtimes</c>, the pyenv versions folder and two aliases:
/// <c>system</c> (<c>/usr/bin/python3</c>, unless configured) and <c>latest</c> (the newest usable version).
/// </summary>
public static class RuntimeCatalogLoader
{
    private const string SectionPath = "PyPE:Runtimes";
    private static readonly Version MinimumVersion = new(3, 6);

    public static async Task<RuntimeCatalog> LoadAsync(IConfiguration configuration, bool discoverPyenv, CancellationToken cancellationToken)
    {
        var errors = new List<ConfigError>();
        var configured = ReadConfigured(configuration, errors);
        var runtimes = new Dictionary<string, RuntimeDefinition>(StringComparer.Ordinal);

        var probes = configured.Select(async r => await ProbeAsync(r, cancellationToken)).ToList();
        // An interpreter that cannot run is not a configuration error: it is listed with its Error, its
        // apps are rejected, and every other platform version and app runs.
        foreach (var runtime in await Task.WhenAll(probes))
        {
            runtimes[runtime.Id] = runtime;
        }

        if (discoverPyenv)
        {
            foreach (var found in PyenvDiscovery.Discover())
            {
                runtimes.TryAdd(found.Id, found);
            }
        }

        if (!runtimes.ContainsKey("system") && File.Exists("/usr/bin/python3"))
        {
            var system = await ProbeAsync(new RuntimeDefinition { Id = "system", Python = "/usr/bin/python3", Origin = "default" }, cancellationToken);
            runtimes["system"] = system;
        }

        if (!runtimes.ContainsKey("latest"))
        {
            var newest = runtimes.Values
                .Where(r => r.Error is null && r.Version is not null)
                .OrderByDescending(r => System.Version.Parse(r.Version!))
                .ThenBy(r => r.Origin == "pyenv" ? 1 : 0)
                .FirstOrDefault();
            if (newest is not null)
            {
                runtimes["latest"] = newest with { Id = "latest", Origin = $"alias of {newest.Id}" };
            }
        }

        foreach (var (id, runtime) in runtimes.ToList())
        {
            if (runtime.EndOfSupport is null && EndOfSupport.Of(runtime.Version) is { } date)
            {
                runtimes[id] = runtime with { EndOfSupport = date };
            }
        }

        return new RuntimeCatalog(runtimes, errors);
    }

    private static List<RuntimeDefinition> ReadConfigured(IConfiguration configuration, List<ConfigError> errors)
    {
        var list = new List<RuntimeDefinition>();
        foreach (var section in configuration.GetSection(SectionPath).GetChildren())
        {
            var python = section["Python"];
            if (string.IsNullOrWhiteSpace(python))
            {
                errors.Add(new(SectionPath, $"{section.Key}:Python", "missing: the interpreter's path is required"));
                continue;
            }

            // Configuration keys are case-insensitive: section["Python"] reads "python" too.
            var unknown = section.GetChildren().Select(c => c.Key)
                .Where(k => !string.Equals(k, "Python", StringComparison.OrdinalIgnoreCase) && !string.Equals(k, "PythonPath", StringComparison.OrdinalIgnoreCase)
                    && !string.Equals(k, "EndOfSupport", StringComparison.OrdinalIgnoreCase))
                .ToList();
            foreach (var key in unknown)
            {
                errors.Add(new(SectionPath, $"{section.Key}:{key}", "unknown key; allowed: Python, PythonPath, EndOfSupport"));
            }

            var paths = section.GetSection("PythonPath").GetChildren().Select(c => c.Value).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!).ToList();
            if (paths.Count == 0 && !string.IsNullOrWhiteSpace(section["PythonPath"]))
            {
                // A single string is accepted as a colon-separated list, as PYTHONPATH itself is.
                paths = [.. section["PythonPath"]!.Split(':', StringSplitOptions.RemoveEmptyEntries)];
            }

            DateOnly? endOfSupport = null;
            if (section["EndOfSupport"] is { Length: > 0 } eos)
            {
                if (DateOnly.TryParseExact(eos, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                {
                    endOfSupport = date;
                }
                else
                {
                    errors.Add(new(SectionPath, $"{section.Key}:EndOfSupport", $"'{eos}' is not a date of the form yyyy-mm-dd"));
                }
            }

            list.Add(new RuntimeDefinition { Id = section.Key, Python = python, PythonPath = paths, EndOfSupport = endOfSupport });
        }

        return list;
    }

    /// <summary>Asks the interpreter for its version; records a readable error when it cannot run or is too old.</summary>
    internal static async Task<RuntimeDefinition> ProbeAsync(RuntimeDefinition runtime, CancellationToken cancellationToken)
    {
        if (!File.Exists(runtime.Python))
        {
            return runtime with { Error = $"the interpreter '{runtime.Python}' does not exist" };
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            var result = await Cli.Wrap(runtime.Python)
                .WithArguments(["-I", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(timeout.Token);
            var text = result.StandardOutput.Trim();
            if (result.ExitCode != 0 || !System.Version.TryParse(text, out var version))
            {
                return runtime with { Error = $"'{runtime.Python}' did not report a Python version (exit code {result.ExitCode.ToString(CultureInfo.InvariantCulture)}): {result.StandardError.Trim()}" };
            }

            return version < MinimumVersion
                ? runtime with { Version = text, Error = $"Python {text} is older than 3.6, the oldest the worker shim supports" }
                : runtime with { Version = text };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return runtime with { Error = $"'{runtime.Python}' could not be started: {ex.Message}" };
        }
    }
}
