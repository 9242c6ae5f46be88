using Microsoft.Extensions.Primitives;

namespace PyPE.Host.Logging;

/// <summary>
/// A live view of a configuration with only the keys a filter lets through (by path): it reads through to the
/// original on every lookup and reloads with it, so settings read from it (Serilog's levels) still follow a changed
/// file. Used to hand Serilog's sinks and the rest of its section to two different loggers.
/// </summary>
internal sealed class FilteredConfiguration(IConfiguration inner, Func<string, bool> keep) : IConfigurationSource, IConfigurationProvider
{
    /// <summary>The configuration without the section at <paramref name="path"/>.</summary>
    public static IConfiguration Without(IConfiguration configuration, string path) =>
        Build(configuration, key => !IsAtOrUnder(key, path));

    /// <summary>The configuration with only the sections at <paramref name="paths"/> (and the sections holding them).</summary>
    public static IConfiguration Only(IConfiguration configuration, params string[] paths) =>
        Build(configuration, key => paths.Any(path => IsAtOrUnder(key, path) || IsAtOrUnder(path, key)));

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    public bool TryGet(string key, out string? value)
    {
        value = keep(key) ? inner[key] : null;
        return value is not null;
    }

    public void Set(string key, string? value) => inner[key] = value;

    public IChangeToken GetReloadToken() => inner.GetReloadToken();

    public void Load()
    {
    }

    public IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath)
    {
        var parent = parentPath is null ? inner : inner.GetSection(parentPath);
        return parent.GetChildren().Where(child => keep(child.Path)).Select(child => child.Key)
            .Concat(earlierKeys).OrderBy(key => key, ConfigurationKeyComparer.Instance);
    }

    private static IConfiguration Build(IConfiguration configuration, Func<string, bool> keep) =>
        new ConfigurationBuilder().Add(new FilteredConfiguration(configuration, keep)).Build();

    /// <summary>True when <paramref name="key"/> is <paramref name="path"/> or a key inside it (segment by segment, ignoring case).</summary>
    private static bool IsAtOrUnder(string key, string path) =>
        key.StartsWith(path, StringComparison.OrdinalIgnoreCase)
        && (key.Length == path.Length || key[path.Length] == ConfigurationPath.KeyDelimiter[0]);
}
