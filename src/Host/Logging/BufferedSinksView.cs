using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;
using Serilog;
using Serilog.Settings.Configuration;

namespace PyPE.Host.Logging;

/// <summary>
/// The <c>Serilog</c> section as the host has Serilog read it when <c>Serilog:WriteTo</c> names the operator's own
/// sinks: the same section, except that each of those sinks sits inside an <c>Async</c> sink of its own (a buffer
/// and a writer thread per sink, its drops counted by the host's <see cref="LogBuffer"/>). Requests are served on the
/// socket event threads (<see cref="Hosting.InlineSocketIo"/>) and their failure paths log there; a synchronous sink
/// (a file on a slow disk, a network sink) written from one would stall every connection on that thread.
/// <para>
/// One reader over one view, not a second logger for the sinks: level switches declared in the section and named by a
/// sink, sinks that read other configuration (a connection string by name) and <c>IConfiguration</c> arguments
/// resolve as they would without the view, because the view's root also holds the whole configuration. Sinks already
/// named <c>Async</c> stay as the operator set them (no second buffer; their drops are not counted); <c>AuditTo</c>
/// sinks stay synchronous (auditing is meant to fail the call). The view is recomputed when the configuration reloads,
/// so a changed minimum level reaches the logger as it did without it. Error messages name the view's keys;
/// <see cref="OperatorPaths"/> turns them back into the operator's.
/// </para>
/// </summary>
internal sealed partial class BufferedSinksView : ConfigurationProvider, IConfigurationSource
{
    /// <summary>Where the view sits in its own configuration root (no operator key can be there).</summary>
    internal const string ViewSection = "PyPE.Host.SerilogView";

    private const string Section = "Serilog";

    private readonly IConfigurationRoot _configuration;

    private BufferedSinksView(IConfigurationRoot configuration)
    {
        _configuration = configuration;
        ChangeToken.OnChange(configuration.GetReloadToken, () =>
        {
            Load();
            OnReload();
        });
    }

    /// <summary>True when the operator named sinks of their own (the view is then what Serilog reads).</summary>
    public static bool Applies(IConfiguration configuration) => configuration.GetSection($"{Section}:WriteTo").Exists();

    /// <summary>Reads the <c>Serilog</c> section of <paramref name="configuration"/> into <paramref name="logger"/>, the operator's sinks behind <paramref name="buffer"/>.</summary>
    public static LoggerConfiguration ReadInto(LoggerConfiguration logger, IConfigurationRoot configuration, LogBuffer buffer)
    {
        using (buffer.BeginConfiguring())
        {
            return logger.ReadFrom.Configuration(CreateView(configuration), new ConfigurationReaderOptions { SectionName = ViewSection });
        }
    }

    /// <summary>The whole configuration with the view beside it, at <see cref="ViewSection"/>.</summary>
    internal static IConfigurationRoot CreateView(IConfigurationRoot configuration) =>
        new ConfigurationBuilder().AddConfiguration(configuration).Add(new BufferedSinksView(configuration)).Build();

    IConfigurationProvider IConfigurationSource.Build(IConfigurationBuilder builder) => this;

    public override void Load()
    {
        var section = _configuration.GetSection(Section);
        var buffered = section.GetSection("WriteTo").GetChildren()
            .Where(sink => !string.Equals(sink.Value ?? sink["Name"], "Async", StringComparison.OrdinalIgnoreCase))
            .Select(sink => sink.Key)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            // A null value is either a section (it has children, which come as keys of their own) or an argument the
            // operator set to null on purpose: keep the second, it can choose the sink method's overload.
            if (value is not null || !section.GetSection(key).GetChildren().Any())
            {
                data[ViewKey(key, buffered)] = value;
            }
        }

        foreach (var sink in buffered)
        {
            // Each sink its own buffer and writer thread: a stuck sink fills its own buffer, not the others'.
            var wrapper = $"{ViewSection}:WriteTo:{sink}";
            data[$"{wrapper}:Name"] = "Async";
            data[$"{wrapper}:Args:bufferSize"] = LogBuffer.Capacity.ToString(CultureInfo.InvariantCulture);
            data[$"{wrapper}:Args:blockWhenFull"] = "false";
            data[$"{wrapper}:Args:monitor"] = $"{typeof(LogBuffer).FullName}::{nameof(LogBuffer.Configuring)}, {typeof(LogBuffer).Assembly.GetName().Name}";
        }

        AgreeMinimumLevelForms(section, buffered, data);
        Data = data;
    }

    /// <summary>The operator's key for one of the view's in an error message: the view's paths mean nothing to them.</summary>
    public static string OperatorPaths(string text) =>
        WrappedSinkPath().Replace(text, $"{Section}:WriteTo:$1").Replace(ViewSection, Section, StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"PyPE\.Host\.SerilogView:WriteTo:([^:\s']+):Args:configure:0", RegexOptions.IgnoreCase)]
    private static partial Regex WrappedSinkPath();

    /// <summary>"WriteTo:1:Args:path" → the view's "WriteTo:1:Args:configure:0:Args:path" when sink 1 is buffered (its wrapper takes its place).</summary>
    private static string ViewKey(string key, HashSet<string> buffered)
    {
        var parts = key.Split(ConfigurationPath.KeyDelimiter, 3);
        if (parts.Length >= 2 && string.Equals(parts[0], "WriteTo", StringComparison.OrdinalIgnoreCase) && buffered.Contains(parts[1]))
        {
            return $"{ViewSection}:WriteTo:{parts[1]}:Args:configure:0{(parts.Length == 3 ? ConfigurationPath.KeyDelimiter + parts[2] : "")}";
        }

        return $"{ViewSection}:{key}";
    }

    /// <summary>
    /// Wherever both <c>MinimumLevel</c> and <c>MinimumLevel:Default</c> are set (the section's own, or a sub-logger's),
    /// Serilog takes the one from the configuration source with the highest precedence. The view is one source, so
    /// it gives both keys the winner's value: whichever of the two Serilog follows, it reads the winner, now and after
    /// a reload that adds or removes one of them.
    /// </summary>
    private void AgreeMinimumLevelForms(IConfigurationSection section, HashSet<string> buffered, Dictionary<string, string?> data)
    {
        const string DefaultSuffix = ":Default";
        foreach (var (key, defaultLevel) in section.AsEnumerable(makePathsRelative: true))
        {
            if (defaultLevel is null || !key.EndsWith("MinimumLevel" + DefaultSuffix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var shortKey = key[..^DefaultSuffix.Length];
            if (section[shortKey] is not { } shortLevel)
            {
                continue;
            }

            var winner = WinningLevel($"{Section}:{shortKey}", $"{Section}:{key}") ?? shortLevel;
            data[ViewKey(shortKey, buffered)] = winner;
            data[ViewKey(key, buffered)] = winner;
        }
    }

    /// <summary>The level the highest-precedence source sets through either key (Serilog looks at the short one first).</summary>
    private string? WinningLevel(string shortPath, string defaultPath)
    {
        foreach (var provider in _configuration.Providers.Reverse())
        {
            if (provider.TryGet(shortPath, out var level) && !string.IsNullOrEmpty(level))
            {
                return level;
            }

            if (provider.TryGet(defaultPath, out level) && !string.IsNullOrEmpty(level))
            {
                return level;
            }
        }

        return null;
    }
}
