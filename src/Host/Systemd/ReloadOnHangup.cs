using System.Runtime.InteropServices;
using PyPE.Supervisor.Supervision;

namespace PyPE.Host.Systemd;

/// <summary>SIGHUP (<c>systemctl reload</c>) re-reads the apps directory, as nginx and uWSGI do.</summary>
internal sealed class ReloadOnHangup(SupervisorService supervisor) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            supervisor.RequestReload();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _registration?.Dispose();
}
