using PyPE.Supervisor.Runtimes;

namespace PyPE.Supervisor.Apps;

/// <summary>Reads every <c>*.json</c> file of the apps directory; one bad file never keeps the others out.</summary>
public static class AppCatalogLoader
{
    public static AppCatalog Load(string appsDirectory, RuntimeCatalog runtimes)
    {
        var apps = new List<AppDefinition>();
        var rejected = new Dictionary<string, IReadOnlyList<ConfigError>>(StringComparer.Ordinal);
        var routes = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var file in Directory.EnumerateFiles(appsDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (IOException ex)
            {
                rejected[name] = [new ConfigError(file, "", $"cannot be read: {ex.Message}")];
                continue;
            }
            catch (UnauthorizedAccessException ex)
            {
                rejected[name] = [new ConfigError(file, "", $"cannot be read: {ex.Message}")];
                continue;
            }

            var (app, errors) = AppFileParser.Parse(file, text);
            var all = errors.ToList();
            if (app is not null)
            {
                if (!runtimes.TryGet(app.Runtime, out var runtime))
                {
                    all.Add(new(file, "runtime", $"unknown platform version '{app.Runtime}'; known: {string.Join(", ", runtimes.Runtimes.Keys.Order(StringComparer.Ordinal))}"));
                }
                else if (runtime.Error is not null)
                {
                    all.Add(new(file, "runtime", $"platform version '{app.Runtime}' is unavailable: {runtime.Error}"));
                }

                foreach (var routeKey in RouteKeys(app.Route))
                {
                    if (routes.TryGetValue(routeKey, out var owner))
                    {
                        all.Add(new(file, "route", $"the same host and path prefix are already routed to app '{owner}'"));
                        break;
                    }
                }
            }

            if (app is null || all.Count > 0)
            {
                rejected[name] = all;
                continue;
            }

            foreach (var routeKey in RouteKeys(app.Route))
            {
                routes[routeKey] = app.Name;
            }

            apps.Add(app);
        }

        return new AppCatalog(apps, rejected);
    }

    private static IEnumerable<string> RouteKeys(RouteDefinition route) =>
        route.Hosts.Count == 0 ? [$"*|{route.PathPrefix}"] : route.Hosts.Select(h => $"{h}|{route.PathPrefix}");
}
