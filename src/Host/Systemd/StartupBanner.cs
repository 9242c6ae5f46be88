using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using PyPE.Host.Admin;
using PyPE.Supervisor.Supervision;

namespace PyPE.Host.Systemd;

/// <summary>Says where to browse once the host listens: every public address and each app's URL.</summary>
internal sealed partial class StartupBanner(IHostApplicationLifetime lifetime, IServer server, AdminServer admin, ISupervisorState supervisor, ILogger<StartupBanner> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            LogServing(string.Join(", ", addresses), string.Join(", ", admin.Addresses));
            var first = addresses.FirstOrDefault()?.Replace("0.0.0.0", "localhost", StringComparison.Ordinal).Replace("[::]", "localhost", StringComparison.Ordinal);
            foreach (var pool in supervisor.Current.Pools)
            {
                var hosts = pool.App.Route.Hosts.Count == 0 ? "any host" : string.Join(", ", pool.App.Route.Hosts);
                LogApp(pool.App.Name, $"{first}{pool.App.Route.PathPrefix}/", hosts, pool.Runtime.Id, pool.Runtime.Version ?? "?");
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "PyPE.Exec is serving at {PublicAddresses} (admin: {AdminAddresses})")]
    private partial void LogServing(string publicAddresses, string adminAddresses);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "  app {App}: browse {Url} ({Hosts}; Python {Runtime} = {Version})")]
    private partial void LogApp(string app, string url, string hosts, string runtime, string version);
}
