namespace PyPE.Supervisor.Apps;

/// <summary>What the apps directory held at one moment: the valid apps and, per rejected file, its errors.</summary>
public sealed class AppCatalog(IReadOnlyList<AppDefinition> apps, IReadOnlyDictionary<string, IReadOnlyList<ConfigError>> rejected)
{
    public IReadOnlyList<AppDefinition> Apps { get; } = apps;

    /// <summary>App name → the errors that kept its file from loading.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ConfigError>> Rejected { get; } = rejected;
}
