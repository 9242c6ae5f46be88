namespace PyPE.Supervisor.Apps;

/// <summary>
/// The app file's <c>health</c> section: the host requests <see cref="Path"/> (under the app's path prefix)
/// through its own public listener every <see cref="Interval"/>; a response below 500 within
/// <see cref="Timeout"/> counts as up. The results are the time-based availability SLI.
/// </summary>
public sealed record HealthCheckSettings
{
    /// <summary><c>path</c>: below the app's path prefix, starting with '/'; may carry a query. Default <c>/</c>.</summary>
    public string Path { get; init; } = "/";

    /// <summary><c>intervalSeconds</c>: time between probes; 0 turns the probe off. Default 15 s.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary><c>timeoutSeconds</c>: a probe without a response by then counts as down. Default 5 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}
