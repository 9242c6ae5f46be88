using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Apps;

/// <summary>
/// Reads one app file into an <see cref="AppDefinition"/>, collecting every problem it finds
/// (with the file, the key and what is allowed) instead of stopping at the first.
/// </summary>
public static partial class AppFileParser
{
    private static readonly string[] TopLevelKeys = ["runtime", "root", "wsgi", "route", "env", "static", "pool", "health"];
    private static readonly string[] HealthKeys = ["path", "intervalSeconds", "timeoutSeconds"];
    private static readonly string[] RouteKeys = ["pathPrefix", "hosts"];
    private static readonly string[] PoolKeys =
    [
        "minWorkers", "maxWorkers", "maxQueue", "queueTimeoutSeconds", "requestTimeoutSeconds", "maxRequests",
        "maxRequestsJitter", "memoryLimitBytes", "idleTimeoutSeconds", "threads", "prefetch", "startTimeoutSeconds",
        "stopTimeoutSeconds", "maxRequestBodyBytes", "growAfterSeconds",
    ];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
    private static partial Regex AppNamePattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")]
    private static partial Regex WsgiPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvNamePattern();

    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9*]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")]
    private static partial Regex HostPattern();

    /// <summary>Parses <paramref name="json"/>, the text of <paramref name="filePath"/>.</summary>
    public static (AppDefinition? App, IReadOnlyList<ConfigError> Errors) Parse(string filePath, string json)
    {
        var errors = new List<ConfigError>();
        var name = Path.GetFileNameWithoutExtension(filePath);
        if (!AppNamePattern().IsMatch(name))
        {
            errors.Add(new(filePath, "", $"the file name '{name}' is not a valid app name (letters, digits, '-', '_', '.'; at most 63 characters)"));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            errors.Add(new(filePath, "", $"not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {FirstSentence(ex.Message)}"));
            return (null, errors);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new(filePath, "", "the file must hold one JSON object"));
                return (null, errors);
            }

            var reader = new Reader(filePath, errors);
            reader.RejectUnknownKeys(root, "", TopLevelKeys);

            var runtime = reader.RequiredString(root, "runtime");
            var rootDir = reader.RequiredString(root, "root");
            var wsgi = reader.RequiredString(root, "wsgi");
            if (wsgi is not null && !WsgiPattern().IsMatch(wsgi))
            {
                errors.Add(new(filePath, "wsgi", $"'{wsgi}' is not of the form 'package.module:callable'"));
            }

            string? rootPath = null;
            if (rootDir is not null)
            {
                rootPath = Path.GetFullPath(rootDir, Path.GetDirectoryName(Path.GetFullPath(filePath))!);
                if (!Directory.Exists(rootPath))
                {
                    errors.Add(new(filePath, "root", $"the folder '{rootPath}' does not exist"));
                }
            }

            var route = ReadRoute(reader, root, errors, filePath);
            var env = ReadEnvironment(reader, root, errors, filePath);
            var statics = ReadStatic(reader, root, errors, filePath, rootPath);
            var pool = ReadPool(reader, root, errors, filePath);
            var health = ReadHealth(reader, root, errors, filePath);

            if (errors.Count > 0 || runtime is null || rootPath is null || wsgi is null)
            {
                return (null, errors);
            }

            var app = new AppDefinition
            {
                Name = name,
                SourceFile = Path.GetFullPath(filePath),
                Runtime = runtime,
                Root = rootPath,
                Wsgi = wsgi,
                Route = route,
                Environment = env,
                StaticDirectories = statics,
                Pool = pool,
                Health = health,
                Fingerprint = Fingerprint(runtime, rootPath, wsgi, route, env, statics, pool, health),
            };
            return (app, errors);
        }
    }

    private static RouteDefinition ReadRoute(Reader reader, JsonElement root, List<ConfigError> errors, string file)
    {
        if (!root.TryGetProperty("route", out var routeElement))
        {
            errors.Add(new(file, "route", "missing; give at least {\"pathPrefix\": \"/\"} or a list of \"hosts\""));
            return new RouteDefinition();
        }

        if (!reader.ExpectObject(routeElement, "route"))
        {
            return new RouteDefinition();
        }

        reader.RejectUnknownKeys(routeElement, "route.", RouteKeys);
        // "" and "/" both mean the whole site.
        var prefix = "";
        if (routeElement.TryGetProperty("pathPrefix", out var prefixElement))
        {
            if (prefixElement.ValueKind == JsonValueKind.String)
            {
                prefix = prefixElement.GetString()!.Trim();
            }
            else
            {
                errors.Add(new(file, "route.pathPrefix", $"must be a string such as \"/apps/name\" (or \"\" for the whole site), not {Describe(prefixElement)}"));
            }
        }

        if (prefix.Length > 0)
        {
            if (!prefix.StartsWith('/') || prefix.Contains("//", StringComparison.Ordinal) || prefix.Contains('?') || prefix.Contains('#') || prefix.Contains('%'))
            {
                errors.Add(new(file, "route.pathPrefix", $"'{prefix}' must start with '/' and hold a plain path (no '//', '?', '#', '%')"));
            }

            prefix = prefix.TrimEnd('/');
        }

        var hosts = new List<string>();
        if (routeElement.TryGetProperty("hosts", out var hostsElement))
        {
            if (hostsElement.ValueKind != JsonValueKind.Array)
            {
                errors.Add(new(file, "route.hosts", $"must be an array of host names, not {Describe(hostsElement)}"));
            }
            else
            {
                var index = 0;
                foreach (var item in hostsElement.EnumerateArray())
                {
                    var key = $"route.hosts[{index++}]";
                    var host = item.ValueKind == JsonValueKind.String ? item.GetString()!.Trim().ToLowerInvariant() : null;
                    if (host is null || !HostPattern().IsMatch(host))
                    {
                        errors.Add(new(file, key, $"{Describe(item)} is not a host name (no scheme, port or path)"));
                    }
                    else
                    {
                        hosts.Add(host);
                    }
                }
            }
        }

        return new RouteDefinition { PathPrefix = prefix, Hosts = hosts };
    }

    private static Dictionary<string, string> ReadEnvironment(Reader reader, JsonElement root, List<ConfigError> errors, string file)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!root.TryGetProperty("env", out var envElement) || !reader.ExpectObject(envElement, "env"))
        {
            return env;
        }

        foreach (var property in envElement.EnumerateObject())
        {
            var key = $"env.{property.Name}";
            if (!EnvNamePattern().IsMatch(property.Name))
            {
                errors.Add(new(file, key, "not a valid environment variable name"));
            }
            else if (property.Name.StartsWith("PYPE_", StringComparison.Ordinal))
            {
                errors.Add(new(file, key, "PYPE_* variables are set by the host and cannot be overridden"));
            }
            else if (property.Value.ValueKind is JsonValueKind.String)
            {
                env[property.Name] = property.Value.GetString()!;
            }
            else if (property.Value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
            {
                env[property.Name] = property.Value.GetRawText();
            }
            else
            {
                errors.Add(new(file, key, $"must be a string, number or boolean, not {Describe(property.Value)}"));
            }
        }

        return env;
    }

    private static Dictionary<string, string> ReadStatic(Reader reader, JsonElement root, List<ConfigError> errors, string file, string? appRoot)
    {
        var statics = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!root.TryGetProperty("static", out var staticElement) || !reader.ExpectObject(staticElement, "static"))
        {
            return statics;
        }

        foreach (var property in staticElement.EnumerateObject())
        {
            var key = $"static.{property.Name}";
            var urlPrefix = property.Name.TrimEnd('/');
            if (!property.Name.StartsWith('/') || urlPrefix.Length == 0 || property.Name.Contains("..", StringComparison.Ordinal) || property.Name.Contains('?') || property.Name.Contains('%'))
            {
                errors.Add(new(file, key, "the URL prefix must start with '/', not be '/' alone, and hold a plain path"));
                continue;
            }

            if (property.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(property.Value.GetString()))
            {
                errors.Add(new(file, key, $"must be a folder path, not {Describe(property.Value)}"));
                continue;
            }

            if (appRoot is null)
            {
                continue;
            }

            var folder = Path.GetFullPath(property.Value.GetString()!, appRoot);
            if (!Directory.Exists(folder))
            {
                errors.Add(new(file, key, $"the folder '{folder}' does not exist"));
                continue;
            }

            statics[urlPrefix] = folder;
        }

        return statics;
    }

    private static PoolSettings ReadPool(Reader reader, JsonElement root, List<ConfigError> errors, string file)
    {
        var defaults = new PoolSettings();
        if (!root.TryGetProperty("pool", out var p) || !reader.ExpectObject(p, "pool"))
        {
            return defaults;
        }

        reader.RejectUnknownKeys(p, "pool.", PoolKeys);
        var pool = new PoolSettings
        {
            MinWorkers = reader.Integer(p, "minWorkers", defaults.MinWorkers, 0, 256),
            MaxWorkers = reader.Integer(p, "maxWorkers", defaults.MaxWorkers, 1, 256),
            MaxQueue = reader.Integer(p, "maxQueue", defaults.MaxQueue, 0, 1_000_000),
            QueueTimeout = reader.Seconds(p, "queueTimeoutSeconds", defaults.QueueTimeout, 0.001, 3600),
            RequestTimeout = reader.Seconds(p, "requestTimeoutSeconds", defaults.RequestTimeout, 0.01, 86400),
            MaxRequests = reader.Integer(p, "maxRequests", defaults.MaxRequests, 0, int.MaxValue),
            MaxRequestsJitter = reader.Integer(p, "maxRequestsJitter", defaults.MaxRequestsJitter, 0, int.MaxValue),
            MemoryLimitBytes = reader.Long(p, "memoryLimitBytes", defaults.MemoryLimitBytes, 0, long.MaxValue),
            IdleTimeout = reader.Seconds(p, "idleTimeoutSeconds", defaults.IdleTimeout, 0.01, 30 * 86400),
            GrowAfter = reader.Seconds(p, "growAfterSeconds", defaults.GrowAfter, 0, 3600),
            Threads = reader.Integer(p, "threads", defaults.Threads, 1, 1024),
            Prefetch = reader.Integer(p, "prefetch", defaults.Prefetch, 0, 16),
            StartTimeout = reader.Seconds(p, "startTimeoutSeconds", defaults.StartTimeout, 0.1, 3600),
            StopTimeout = reader.Seconds(p, "stopTimeoutSeconds", defaults.StopTimeout, 0, 3600),
            MaxRequestBodyBytes = reader.Long(p, "maxRequestBodyBytes", defaults.MaxRequestBodyBytes, 0, 1024L * 1024 * 1024),
        };

        if (pool.Prefetch > 0 && pool.Threads + pool.Prefetch > TicketTable.Slots)
        {
            errors.Add(new(file, "pool.prefetch", $"pool.threads + pool.prefetch may be at most {TicketTable.Slots} (a worker's ticket table), not {pool.Threads + pool.Prefetch}; set prefetch to 0 for this many threads"));
        }

        if (pool.GrowAfter > TimeSpan.Zero && pool.GrowAfter >= pool.QueueTimeout)
        {
            errors.Add(new(file, "pool.growAfterSeconds", $"{pool.GrowAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s is not less than pool.queueTimeoutSeconds ({pool.QueueTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s): no queued request would wait that long, so the pool would never grow for its queue"));
        }

        if (pool.MinWorkers > pool.MaxWorkers)
        {
            errors.Add(new(file, "pool.minWorkers", $"{pool.MinWorkers} is more than pool.maxWorkers ({pool.MaxWorkers})"));
        }

        return pool;
    }

    private static HealthCheckSettings ReadHealth(Reader reader, JsonElement root, List<ConfigError> errors, string file)
    {
        var defaults = new HealthCheckSettings();
        if (!root.TryGetProperty("health", out var h) || !reader.ExpectObject(h, "health"))
        {
            return defaults;
        }

        reader.RejectUnknownKeys(h, "health.", HealthKeys);
        var path = reader.OptionalString(h, "path", "health.path") ?? defaults.Path;
        if (!path.StartsWith('/') || path.StartsWith("//", StringComparison.Ordinal) || path.Contains('\\') || path.Contains('#')
            || path.Contains("..", StringComparison.Ordinal) || path.Any(char.IsWhiteSpace))
        {
            errors.Add(new(file, "health.path", $"'{path}' must be a path under the app's prefix starting with a single '/' (a query is allowed; no '#', '\\', '..' or spaces)"));
        }

        var interval = reader.Seconds(h, "intervalSeconds", defaults.Interval, 0, 3600, "health");
        if (interval > TimeSpan.Zero && interval < TimeSpan.FromSeconds(1))
        {
            errors.Add(new(file, "health.intervalSeconds", "must be 0 (no probe) or at least 1 second"));
        }

        var timeout = reader.Seconds(h, "timeoutSeconds", defaults.Timeout, 0.1, 600, "health");
        return new HealthCheckSettings { Path = path, Interval = interval, Timeout = timeout };
    }

    private static string Fingerprint(string runtime, string root, string wsgi, RouteDefinition route, Dictionary<string, string> env, Dictionary<string, string> statics, PoolSettings pool, HealthCheckSettings health) =>
        string.Join('\n',
            runtime, root, wsgi, route.PathPrefix, string.Join(',', route.Hosts),
            string.Join(',', env.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}")),
            string.Join(',', statics.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}")),
            pool.ToString(),
            health.ToString());

    internal static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{element.GetString()}\"",
        JsonValueKind.Number => $"the number {element.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {element.GetRawText()}",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => element.ValueKind.ToString(),
    };

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}
