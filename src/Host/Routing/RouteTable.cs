namespace PyPE.Host.Routing;

/// <summary>
/// Picks the app for a request: routes of the request's host name first, then host-less routes; within
/// each, the longest path prefix that matches on a segment boundary ("/app" matches "/app" and "/app/x",
/// not "/apple"). Paths compare case-sensitively, as nginx locations and the worker's SCRIPT_NAME split do;
/// host names case-insensitively. Immutable; rebuilt when the supervisor publishes a new app set.
/// </summary>
internal sealed class RouteTable
{
    public static readonly RouteTable Empty = new([]);

    private readonly Dictionary<string, AppRoute[]> _byHost;
    private readonly AppRoute[] _anyHost;

    public RouteTable(IEnumerable<AppRoute> routes)
    {
        var all = routes.ToList();
        _anyHost = [.. all.Where(r => r.Pool.App.Route.Hosts.Count == 0).OrderByDescending(r => r.PathPrefix.Length)];
        _byHost = all
            .SelectMany(r => r.Pool.App.Route.Hosts.Select(h => (Host: h, Route: r)))
            .GroupBy(x => x.Host, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Route).OrderByDescending(r => r.PathPrefix.Length).ToArray(), StringComparer.OrdinalIgnoreCase);
        Routes = all;
    }

    public IReadOnlyList<AppRoute> Routes { get; }

    public AppRoute? Match(string host, string path)
    {
        if (_byHost.Count > 0 && _byHost.TryGetValue(host, out var hostRoutes) && MatchPrefix(hostRoutes, path) is { } hostMatch)
        {
            return hostMatch;
        }

        return MatchPrefix(_anyHost, path);
    }

    private static AppRoute? MatchPrefix(AppRoute[] routes, string path)
    {
        foreach (var route in routes)
        {
            if (IsUnderPrefix(path, route.PathPrefix))
            {
                return route;
            }
        }

        return null;
    }

    internal static bool IsUnderPrefix(string path, string prefix) =>
        prefix.Length == 0
        || (path.StartsWith(prefix, StringComparison.Ordinal) && (path.Length == prefix.Length || path[prefix.Length] == '/'));
}
