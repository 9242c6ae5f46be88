namespace PyPE.Supervisor.Runtimes;

/// <summary>The platform versions known to this host, by id (immutable).</summary>
public sealed class RuntimeCatalog(IReadOnlyDictionary<string, RuntimeDefinition> runtimes, IReadOnlyList<ConfigError> errors)
{
    public IReadOnlyDictionary<string, RuntimeDefinition> Runtimes { get; } = runtimes;

    /// <summary>
    /// Mistakes in <c>PyPE:Runtimes</c> itself (a missing <c>Python</c>, an unknown key): the host refuses to start.
    /// An interpreter that cannot run is not one of these; it stays listed with <see cref="RuntimeDefinition.Error"/> set.
    /// </summary>
    public IReadOnlyList<ConfigError> Errors { get; } = errors;

    public bool TryGet(string id, out RuntimeDefinition runtime) => Runtimes.TryGetValue(id, out runtime!);
}
