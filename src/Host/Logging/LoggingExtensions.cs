using System.Globalization;
using Serilog;

namespace PyPE.Host.Logging;

internal static class LoggingExtensions
{
    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Serilog for the host, configured from the <c>Serilog</c> section; a console sink unless that section
    /// names its own sinks. Per host instance (no static <c>Log.Logger</c>), so tests can run several hosts.
    /// </summary>
    public static WebApplicationBuilder AddPyPELogging(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(configuration).Enrich.FromLogContext();
            if (!configuration.GetSection("Serilog:WriteTo").Exists())
            {
                logger.WriteTo.Console(outputTemplate: ConsoleTemplate, formatProvider: CultureInfo.InvariantCulture);
            }
        });
        return builder;
    }
}
