using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;
using PyPE.Supervisor.Supervision;

namespace PyPE.Host.Systemd;

/// <summary>
/// The systemd notify protocol when <c>NOTIFY_SOCKET</c> is set (<c>Type=notify</c>): READY=1 once both
/// listeners are up, WATCHDOG=1 at half of <c>WATCHDOG_USEC</c> while the supervisor answers, STATUS=
/// with a one-line summary, STOPPING=1 on shutdown. Without NOTIFY_SOCKET it does nothing.
/// </summary>
internal sealed partial class SystemdNotifyService(
    ISystemdNotifier notifier,
    IHostApplicationLifetime lifetime,
    ISupervisorState supervisor,
    TimeProvider time,
    ILogger<SystemdNotifyService> logger) : IHostedService, IDisposable
{
    private ITimer? _watchdog;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!notifier.IsEnabled)
        {
            return Task.CompletedTask;
        }

        lifetime.ApplicationStarted.Register(() =>
        {
            notifier.Notify(new ServiceState("READY=1\nSTATUS=" + Summary()));
            var interval = WatchdogInterval();
            if (interval is { } every)
            {
                _watchdog = time.CreateTimer(_ => Ping(), null, every, every);
                LogWatchdog(every.TotalSeconds);
            }
        });
        lifetime.ApplicationStopping.Register(() => notifier.Notify(ServiceState.Stopping));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _watchdog?.Dispose();
        return Task.CompletedTask;
    }

    private void Ping()
    {
        try
        {
            // The supervisor's snapshot being readable is the liveness this host can vouch for cheaply.
            notifier.Notify(new ServiceState("WATCHDOG=1\nSTATUS=" + Summary()));
        }
        catch (Exception ex)
        {
            // A timer callback must not throw (it would end the process); a missed ping is systemd's to judge.
            LogPingFailed(ex);
        }
    }

    private string Summary()
    {
        var pools = supervisor.Current.Pools;
        var workers = pools.Sum(p => p.Workers.Count);
        var queued = pools.Sum(p => p.Dispatcher.QueueLength);
        return string.Create(CultureInfo.InvariantCulture, $"{pools.Count} apps, {workers} workers, {queued} queued");
    }

    private static TimeSpan? WatchdogInterval()
    {
        var usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (string.IsNullOrEmpty(usec) || !long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var micros) || micros <= 0)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(micros / 2.0);
    }

    public void Dispose() => _watchdog?.Dispose();

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "systemd watchdog ping failed")]
    private partial void LogPingFailed(Exception exception);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "systemd watchdog: pinging every {IntervalSeconds:0.#} s")]
    private partial void LogWatchdog(double intervalSeconds);
}
