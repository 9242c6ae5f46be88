namespace PyPE.Supervisor.Apps;

/// <summary>Which requests reach an app: by host name, by path prefix, or both.</summary>
public sealed record RouteDefinition
{
    /// <summary>Path prefix without a trailing slash ("" = the whole site). The app sees it as SCRIPT_NAME.</summary>
    public string PathPrefix { get; init; } = "";

    /// <summary>Host names (lower case, no port) this app answers; empty = any host.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];
}
