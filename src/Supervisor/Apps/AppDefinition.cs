namespace PyPE.Supervisor.Apps;

/// <summary>One app, as validated from its file <c>&lt;name&gt;.json</c> in the apps directory.</summary>
public sealed record AppDefinition
{
    /// <summary>The app's name: its file name without <c>.json</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Full path of the app file it came from.</summary>
    public required string SourceFile { get; init; }

    /// <summary><c>runtime</c>: id of the platform version (a key of <c>PyPE:Runtimes</c> or a discovered one).</summary>
    public required string Runtime { get; init; }

    /// <summary><c>root</c>: the app's folder (absolute; a relative path in the file is resolved against the file's folder).</summary>
    public required string Root { get; init; }

    /// <summary><c>wsgi</c>: <c>module:callable</c> of the WSGI application.</summary>
    public required string Wsgi { get; init; }

    public RouteDefinition Route { get; init; } = new();

    /// <summary><c>env</c>: extra environment variables for the app's workers.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary><c>static</c>: URL prefix → folder (absolute; relative ones are resolved against <see cref="Root"/>).</summary>
    public IReadOnlyDictionary<string, string> StaticDirectories { get; init; } = new Dictionary<string, string>();

    public PoolSettings Pool { get; init; } = new();

    /// <summary><c>health</c>: the synthetic probe that measures the app's time-based availability.</summary>
    public HealthCheckSettings Health { get; init; } = new();

    /// <summary>A canonical text of everything above, to tell a changed app file from an unchanged one.</summary>
    public required string Fingerprint { get; init; }
}
