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

        using var client = endpoint.CreateClient();
        using var timer = new PeriodicTimer(Tick, time);
        do
        {
            StartDueProbes(client, stoppingToken);
        }
        while (await WaitForTickAsync(timer, stoppingToken));

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
            }

            if (now < state.NextDue || state.Running is { IsCompleted: false })
            {
                continue;
            }

            state.NextDue = now + (long)(time.TimestampFrequency * app.Health.Interval.TotalSeconds);
            state.Running = ProbeAsync(client, app, state, stoppingToken);
        }

        foreach (var gone in _apps.Keys.Where(name => !present.Contains(name)).ToList())
        {
            _apps.Remove(gone);
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

        if (stoppingToken.IsCancellationRequested)
        {
            // Cut short by the host stopping: says nothing about the app.
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
            using var request = new HttpRequestMessage(HttpMethod.Get, app.Route.PathPrefix + app.Health.Path);
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
    }

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "No public listener a probe can reach; the synthetic probes (time-based availability) are off")]
    private partial void LogNoListener();

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Probe: app {App} is down ({HealthPath}: {Reason})")]
    private partial void LogDown(string app, string healthPath, string reason);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Probe: app {App} is up ({HealthPath})")]
    private partial void LogUp(string app, string healthPath);
}
