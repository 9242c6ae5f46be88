using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Http;
using PyPE.Host.Metrics;
using PyPE.Host.Probes;
using PyPE.Host.Routing;
using PyPE.Host.StaticFiles;
using PyPE.Supervisor.Supervision;

namespace PyPE.Benchmarks;

/// <summary>Picking the app for a request among many routes, and recording its metrics.</summary>
[MemoryDiagnoser]
public class RouteBenchmarks
{
    private RouteTable _table = null!;
    private AppMetrics _metrics = null!;
    private readonly SyntheticProbeMarker _probes = new();
    private readonly DefaultHttpContext _browserRequest = BrowserRequest();

    [GlobalSetup]
    public void Setup()
    {
        var metrics = new PyPEMetrics(new MetricsRegistry(), new NoSupervisor(), new ConfigurationBuilder().Build(), TimeProvider.System, new PyPE.Host.Slo.SloCounterSet(), PyPE.Host.Slo.MaintenanceSchedule.None);
        _metrics = metrics.ForApp("bench");
        var routes = Enumerable.Range(0, 50)
            .Select(i => BenchmarkApps.App($"app{i}", $"/apps/app{i}", i % 5 == 0 ? [$"host{i}.example.edu"] : []))
            .Select(app => new AppRoute(BenchmarkApps.Pool(app), Array.Empty<StaticMount>(), metrics.ForApp(app.Name)));
        _table = new RouteTable(routes);
    }

    [Benchmark(Baseline = true)]
    public bool MatchPathPrefix() => _table.Match("portal.example.edu", "/apps/app37/people/42") is not null;

    [Benchmark]
    public bool MatchHostThenPrefix() => _table.Match("host10.example.edu", "/apps/app10/x") is not null;

    [Benchmark]
    public bool MatchNothing() => _table.Match("portal.example.edu", "/nothing/here") is not null;

    /// <summary>Everything recorded for one dynamic request: count, duration histogram, queue wait histogram.</summary>
    [Benchmark]
    public void RecordRequestMetrics()
    {
        _metrics.RecordQueueWait(0);
        _metrics.RecordRequest(RequestClass.Dynamic, 200, 0.0123, ResponseOrigin.App);
    }

    /// <summary>The one check every request pays for the synthetic probe: is the probe marker among its headers?</summary>
    [Benchmark]
    public bool CheckProbeMarker() => _probes.TakeMark(_browserRequest.Request);

    private static DefaultHttpContext BrowserRequest()
    {
        var context = new DefaultHttpContext();
        var headers = context.Request.Headers;
        headers.Host = "portal.example.edu";
        headers.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        headers.Accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        headers.AcceptEncoding = "gzip, deflate, br";
        headers.AcceptLanguage = "de-CH,de;q=0.9,en;q=0.8";
        headers.Cookie = "sessionid=abc123; csrftoken=def456";
        return context;
    }

    private sealed class NoSupervisor : ISupervisorState
    {
        public SupervisorSnapshot Current => SupervisorSnapshot.Empty;
    }
}
