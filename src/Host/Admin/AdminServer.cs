using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Prometheus;
using PyPE.Host.Metrics;

namespace PyPE.Host.Admin;

/// <summary>
/// A second Kestrel server, apart from the public one, for operators: <c>/metrics</c>, <c>/status</c> and
/// the admin API. Public traffic can never reach it, and it stays up while the public side is busy.
/// </summary>
internal sealed partial class AdminServer(IOptions<AdminOptions> options, IServiceProvider services, ILogger<AdminServer> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The addresses the admin listener is bound to (with real ports when 0 was asked for).</summary>
    public IReadOnlyList<string> Addresses { get; private set; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ForwardingLoggerProvider(services.GetRequiredService<ILoggerFactory>()));
        builder.WebHost.UseUrls(options.Value.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        _app = builder.Build();

        var metrics = services.GetRequiredService<PyPEMetrics>();
        _app.UseMetricServer(settings => settings.Registry = metrics.Registry, "/metrics");
        _app.MapAdminEndpoints(services);

        await _app.StartAsync(cancellationToken);
        Addresses = [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];
        var addresses = string.Join(", ", Addresses);
        LogListening(addresses);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Admin listener (metrics, status): {Addresses}")]
    private partial void LogListening(string addresses);

    /// <summary>Sends the admin server's own logs to the host's logger factory (Serilog).</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
