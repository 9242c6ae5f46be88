using System.Globalization;
using Serilog;

namespace PyPE.Host.Logging;

internal static class LoggingExtensions
{
    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Serilog for the host, configured from the <c>Serilog</c> section; a console sink unless that section
    /// names its own sinks. Per host instance (no static <c>Log.Logger</c>), so tests can run several hosts.
    /// The console is written from a background thread: requests are served on the socket event threads
    /// (<see cref="Hosting.InlineSocketIo"/>), and a write to a full stdout pipe (a stalled journald, a paused
    /// terminal) there would stall every connection on that thread. When the buffer is full, events are dropped
    /// and counted (<see cref="ConsoleLogBuffer"/>); a stop flushes the buffer, a SIGKILL or crash loses what is
    /// still in it.
    /// </summary>
    public static WebApplicationBuilder AddPyPELogging(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var consoleBuffer = new ConsoleLogBuffer();
        builder.Services.AddSingleton(consoleBuffer);
        builder.Services.AddSerilog(
            (services, logger) =>
            {
                logger.ReadFrom.Configuration(configuration).Enrich.FromLogContext();
                if (!configuration.GetSection("Serilog:WriteTo").Exists())
                {
                    consoleBuffer.WriteTo(logger.WriteTo, sink => sink.Console(outputTemplate: ConsoleTemplate, formatProvider: CultureInfo.InvariantCulture));
                }
            },
            // The logger belongs to this host and is disposed (flushed) with it; Log.Logger is left alone, so a
            // second host in the same process (the tests) neither replaces nor closes the first one's.
            preserveStaticLogger: true);
        return builder;
    }
}
