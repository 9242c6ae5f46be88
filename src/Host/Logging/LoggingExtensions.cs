using System.Globalization;
using Serilog;

namespace PyPE.Host.Logging;

internal static class LoggingExtensions
{
    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    /// <summary>Where Serilog.Settings.Configuration reads the sinks; the rest of the section (levels, enrichers, filters) stays with the host's logger.</summary>
    private const string SinksSection = "Serilog:WriteTo";

    /// <summary>
    /// Serilog for the host, configured from the <c>Serilog</c> section; a console sink unless that section
    /// names its own sinks. Per host instance (no static <c>Log.Logger</c>), so tests can run several hosts.
    /// Every sink — the console or the operator's own — is written from a background thread: requests are served
    /// on the socket event threads (<see cref="Hosting.InlineSocketIo"/>), and a write to a full stdout pipe (a
    /// stalled journald, a paused terminal), a slow disk or a log server there would stall every connection on that
    /// thread. When the buffer is full, events are dropped and counted (<see cref="LogBuffer"/>); a stop flushes the
    /// buffer, a SIGKILL or crash loses what is still in it. The operator's sinks hang off the buffer as a logger of
    /// their own (at every level: the host's logger has filtered already); levels, enrichers and filters stay on the
    /// host's logger, so events below its level are never made, and level changes in a reloaded file still apply.
    /// </summary>
    public static WebApplicationBuilder AddPyPELogging(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var buffer = new LogBuffer();
        builder.Services.AddSingleton(buffer);
        builder.Services.AddSerilog(
            (services, logger) =>
            {
                if (configuration.GetSection(SinksSection).Exists())
                {
                    logger.ReadFrom.Configuration(FilteredConfiguration.Without(configuration, SinksSection)).Enrich.FromLogContext();
                    var sinks = FilteredConfiguration.Only(configuration, "Serilog:Using", SinksSection);
                    buffer.WriteTo(logger.WriteTo, sink => sink.Logger(own => own.MinimumLevel.Verbose().ReadFrom.Configuration(sinks)));
                }
                else
                {
                    logger.ReadFrom.Configuration(configuration).Enrich.FromLogContext();
                    buffer.WriteTo(logger.WriteTo, sink => sink.Console(outputTemplate: ConsoleTemplate, formatProvider: CultureInfo.InvariantCulture));
                }
            },
            // The logger belongs to this host and is disposed (flushed) with it; Log.Logger is left alone, so a
            // second host in the same process (the tests) neither replaces nor closes the first one's.
            preserveStaticLogger: true);
        return builder;
    }
}
