using System.Globalization;
using Serilog;

namespace PyPE.Host.Logging;

internal static class LoggingExtensions
{
    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Serilog for the host, configured from the <c>Serilog</c> section; a console sink unless that section
    /// names its own sinks. Per host instance (no static <c>Log.Logger</c>), so tests can run several hosts.
    /// Every sink is written from a background thread, through the host's <see cref="LogBuffer"/>: requests are
    /// served on the socket event threads (<see cref="Hosting.InlineSocketIo"/>), and a write to a full stdout pipe
    /// (a stalled journald, a paused terminal) or a slow file or network sink there would stall every connection on
    /// that thread. When the buffer is full, events are dropped and counted; a stop flushes the buffer, a SIGKILL or
    /// crash loses what is still in it. The operator's own sinks get there through <see cref="BufferedSinksView"/>.
    /// </summary>
    public static WebApplicationBuilder AddPyPELogging(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var buffer = new LogBuffer();
        builder.Services.AddSingleton(buffer);
        builder.Services.AddSerilog(
            (services, logger) =>
            {
                try
                {
                    if (BufferedSinksView.Applies(configuration))
                    {
                        BufferedSinksView.ReadInto(logger, configuration, buffer);
                    }
                    else
                    {
                        logger.ReadFrom.Configuration(configuration);
                        buffer.WriteTo(logger.WriteTo, sink => sink.Console(outputTemplate: ConsoleTemplate, formatProvider: CultureInfo.InvariantCulture));
                    }
                }
                catch (Exception invalid) when (invalid is not OutOfMemoryException)
                {
                    // Whatever Serilog.Settings.Configuration throws (there is no common type) is a fault in the section.
                    throw LoggingConfigurationException.From(invalid);
                }

                logger.Enrich.FromLogContext();
            },
            // The logger belongs to this host and is disposed (flushed) with it; Log.Logger is left alone, so a
            // second host in the same process (the tests) neither replaces nor closes the first one's.
            preserveStaticLogger: true);
        return builder;
    }
}
