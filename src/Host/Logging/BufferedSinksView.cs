using Microsoft.Extensions.Primitives;
using Serilog;
using Serilog.Settings.Configuration;

namespace PyPE.Host.Logging;

/// <summary>
/// The <c>Serilog</c> section as the host has Serilog read it when <c>Serilog:WriteTo</c> names the operator's own
/// sinks: the same section, except that those sinks sit inside one <c>Async</c> sink, the host's
/// <see cref="LogBuffer"/>. Requests are served on the socket event threads (<see cref="Hosting.InlineSocketIo"/>)
/// and their failure paths log there; a synchronous sink (a file on a slow disk, a network sink) written from one
/// would stall every connection on that thread.
/// <para>
/// One reader over one view, not a second logger for the sinks: level switches declared in the section and named by a
/// sink, sinks that read other configuration (a connection string by name) and <c>IConfiguration</c> arguments
/// resolve as they would without the view, because the view's root also holds the whole configuration. Sinks already
/// named <c>Async</c> stay where they are (no second buffer); <c>AuditTo</c> sinks stay synchronous (auditing is
/// meant to fail the call). The view is recomputed when the configuration reloads, so a changed minimum level reaches
/// the logger as it did without it.
/// </para>
/// </summary>
internal sealed class BufferedSinksView : ConfigurationProvider, IConfigurationSource
{
    /// <summary>Where the view sits in its own configuration root (no operator key can be there).</summary>
    internal const string ViewSection = "PyPE.Host.SerilogView";

    /// <summary>The key of the host's Async sink among the view's WriteTo entries.</summary>
    internal const string BufferKey = "PyPE.Host.Buffer";

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
        var levelFormLost = LosingMinimumLevelForm();
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is not null && !string.Equals(key, levelFormLost, StringComparison.OrdinalIgnoreCase))
            {
                data[ViewKey(key, buffered)] = value;
            }
        }

        if (buffered.Count > 0)
        {
            var buffer = $"{ViewSection}:WriteTo:{BufferKey}";
            data[$"{buffer}:Name"] = "Async";
            data[$"{buffer}:Args:bufferSize"] = LogBuffer.Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture);
            data[$"{buffer}:Args:blockWhenFull"] = "false";
            data[$"{buffer}:Args:monitor"] = $"{typeof(LogBuffer).FullName}::{nameof(LogBuffer.Configuring)}, {typeof(LogBuffer).Assembly.GetName().Name}";
        }

        Data = data;
    }

    /// <summary>"WriteTo:1:Args:path" → the view's "WriteTo:&lt;buffer&gt;:Args:configure:1:Args:path" when sink 1 is buffered.</summary>
    private static string ViewKey(string key, HashSet<string> buffered)
    {
        var parts = key.Split(ConfigurationPath.KeyDelimiter, 3);
        if (parts.Length >= 2 && string.Equals(parts[0], "WriteTo", StringComparison.OrdinalIgnoreCase) && buffered.Contains(parts[1]))
        {
            return $"{ViewSection}:WriteTo:{BufferKey}:Args:configure:{string.Join(ConfigurationPath.KeyDelimiter, parts[1..])}";
        }

        return $"{ViewSection}:{key}";
    }

    /// <summary>
    /// When both <c>MinimumLevel</c> and <c>MinimumLevel:Default</c> are set, Serilog takes the one from the
    /// configuration source with the highest precedence; the view is one source, so it keeps only that one. Returns
    /// the key (relative to the section) the view leaves out, or null.
    /// </summary>
    private string? LosingMinimumLevelForm()
    {
        const string Short = "MinimumLevel";
        const string Default = "MinimumLevel:Default";
        if (_configuration[$"{Section}:{Short}"] is null || _configuration[$"{Section}:{Default}"] is null)
        {
            return null;
        }

        foreach (var provider in _configuration.Providers.Reverse())
        {
            if (provider.TryGet($"{Section}:{Short}", out var level) && !string.IsNullOrEmpty(level))
            {
                return Default;
            }

            if (provider.TryGet($"{Section}:{Default}", out level) && !string.IsNullOrEmpty(level))
            {
                return Short;
            }
        }

        return null;
    }
}
