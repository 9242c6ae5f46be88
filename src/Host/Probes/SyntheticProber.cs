using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using PyPE.Host.Metrics;
using PyPE.Host.Routing;
using PyPE.Host.Slo;
using PyPE.Supervisor.Apps;

namespace PyPE.Host.Probes;

/// <summary>
/// The built-in synthetic probe: every app's health path (app file <c>health</c>) is requested on its
/// interval through the host's own public listener — routing, queue, worker and all, like a user. The
/// results are the time-based availability SLI (ledger and <c>/slo</c>) and the <c>pype_probe*</c> metrics.
/// </summary>
internal sealed partial class SyntheticProber(
    RouteTableProvider routes,
    IServer server,
    IHostApplicationLifetime lifetime,
    PyPEMetrics metrics,
    SloCounterSet slo,
    SyntheticProbeMarker marker,
    TimeProvider time,
    ILogger<SyntheticProber> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private readonly Dictionary<string, AppProbeState> _apps = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await WaitUntilStartedAsync(stoppingToken))
        {
            return;
        }

        var endpoint = PublicEndpoint.From(server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []);
        if (endpoint is null)
        {
            LogNoListener();
            return;
        }

        // The public listener closes as soon as the host starts stopping, before this service is stopped: probes
        // from then on would find every app "down".
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        using var client = endpoint.CreateClient();
        using var timer = new PeriodicTimer(Tick, time);
        do
        {
            StartDueProbes(client, stopping.Token);
        }
        while (await WaitForTickAsync(timer, stopping.Token));

        await Task.WhenAll(_apps.Values.Select(a => a.Running ?? Task.CompletedTask));
    }

    private void StartDueProbes(HttpClient client, CancellationToken stoppingToken)
    {
        var now = time.GetTimestamp();
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var route in routes.Current.Routes)
        {
            var app = route.Pool.App;
            if (app.Health.Interval <= TimeSpan.Zero || !present.Add(app.Name))
            {
                continue;
            }

            if (!_apps.TryGetValue(app.Name, out var state))
            {
                // The first probe a little after the app appears, spread over the interval so apps do not probe in step.
                state = new AppProbeState { NextDue = now + (long)(time.TimestampFrequency * app.Health.Interval.TotalSeconds * Random.Shared.NextDouble() * 0.5) };
                _apps[app.Name] = state;
                metrics.InitializeProbe(app.Name);
            }

            if (now < state.NextDue - (time.TimestampFrequency / 10) || state.Running is { IsCompleted: false })
            {
                continue;
            }

            // On schedule, not "a tick after the last one": a tick that lands a hair early would stretch every interval.
            var interval = (long)(time.TimestampFrequency * app.Health.Interval.TotalSeconds);
            state.NextDue = Math.Max(state.NextDue + interval, now + (interval / 2));
            state.Running = ProbeAsync(client, app, state, stoppingToken);
        }

        foreach (var gone in _apps.Keys.Where(name => !present.Contains(name)).ToList())
        {
            // Removed, or its probe turned off: its last result must not linger (PyPEAppDown would fire forever).
            _apps[gone].Removed = true;
            _apps.Remove(gone);
            metrics.RemoveProbe(gone);
        }
    }

    private async Task ProbeAsync(HttpClient client, AppDefinition app, AppProbeState state, CancellationToken stoppingToken)
    {
        var started = Stopwatch.GetTimestamp();
        string? failure;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
        {
            timeout.CancelAfter(app.Health.Timeout);
            failure = await RequestAsync(client, app, timeout.Token, stoppingToken);
        }

        if (stoppingToken.IsCancellationRequested || state.Removed)
        {
            // Cut short by the host stopping, or the app is gone meanwhile: says nothing about the app.
            return;
        }

        var up = failure is null;
        slo.ForApp(app.Name).RecordProbe(up);
        metrics.RecordProbe(app.Name, up, Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (up != state.LastUp)
        {
            if (up)
            {
                LogUp(app.Name, app.Health.Path);
            }
            else
            {
                LogDown(app.Name, app.Health.Path, failure!);
            }

            state.LastUp = up;
        }
    }

    /// <returns>Null when the app is up, else why not.</returns>
    private async Task<string?> RequestAsync(HttpClient client, AppDefinition app, CancellationToken cancellationToken, CancellationToken stoppingToken)
    {
        try
        {
            // Never anywhere but our own listener: the request carries the probe secret.
            var target = new Uri(client.BaseAddress!, app.Route.PathPrefix + app.Health.Path);
            if (target.Authority != client.BaseAddress!.Authority)
            {
                return $"the health path '{app.Health.Path}' leads off the host";
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            request.Headers.TryAddWithoutValidation(SyntheticProbeMarker.HeaderName, marker.Token);
            if (HostFor(app) is { } host)
            {
                request.Headers.Host = host;
            }

            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            var status = (int)response.StatusCode;
            return status < 500 ? null : $"answered {status}";
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return $"no answer within {app.Health.Timeout.TotalSeconds:0.###} s";
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>A host name the app's route accepts (a wildcard gets a made-up label); null for any host.</summary>
    private static string? HostFor(AppDefinition app) => app.Route.Hosts.Count == 0
        ? null
        : app.Route.Hosts.FirstOrDefault(h => !h.Contains('*', StringComparison.Ordinal)) ?? app.Route.Hosts[0].Replace("*", "probe", StringComparison.Ordinal);

    private async Task<bool> WaitUntilStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        try
        {
            await started.Task.WaitAsync(stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> WaitForTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private sealed class AppProbeState
    {
        public long NextDue { get; set; }

        public Task? Running { get; set; }

        /// <summary>The last result, to log changes only; null before the first probe.</summary>
        public bool? LastUp { get; set; }

        /// <summary>Set when the app left (or its probe was turned off) while a probe was running.</summary>
        public volatile bool Removed;
    }

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "No public listener a probe can reach; the synthetic probes (time-based availability) are off")]
    private partial void LogNoListener();

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Probe: app {App} is down ({HealthPath}: {Reason})")]
    private partial void LogDown(string app, string healthPath, string reason);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Probe: app {App} is up ({HealthPath})")]
    private partial void LogUp(string app, string healthPath);
}
