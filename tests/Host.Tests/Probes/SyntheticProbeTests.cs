using System.Net;
using System.Text.Json;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Probes;

public sealed partial class SyntheticProbeTests
{
    [Fact(Timeout = 60_000)]
    public async Task Probes_MeasureTimeBasedAvailability_WithoutCountingAsRequests()
    {
        var up = new TestApp("probed") { Health = new() { ["path"] = "/health", ["intervalSeconds"] = 1 } };
        var down = new TestApp("broken") { Health = new() { ["path"] = "/status/503", ["intervalSeconds"] = 1 } };
        await using var host = await TestHost.StartAsync([up, down]);

        var metrics = "";
        await Wait.UntilAsync(async () =>
        {
            metrics = await host.Admin.GetStringAsync("/metrics");
            return ProbedUp().IsMatch(metrics) && BrokenDown().IsMatch(metrics);
        }, TimeSpan.FromSeconds(30), "a probe found 'probed' up and one found 'broken' down");

        Assert.Contains("pype_probe_up{app=\"probed\",environment=\"TEST\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("pype_probe_up{app=\"broken\",environment=\"TEST\"} 0", metrics, StringComparison.Ordinal);
        // Series exist from the start at 0, so the first failure is an increase Prometheus can see.
        Assert.Contains("pype_probes_total{app=\"probed\",result=\"down\",environment=\"TEST\"} 0", metrics, StringComparison.Ordinal);
        // Probes are not requests: no request was sent, so none is counted.
        Assert.DoesNotMatch("pype_http_requests_total\\{app=\"(probed|broken)\"[^}]*\\} [1-9]", metrics);
        var slo = await SloAsync(host);
        Assert.Equal(0, Window(slo, "availability").GetProperty("total").GetInt64());
        var probes = Window(slo, "probe_availability");
        Assert.InRange(probes.GetProperty("good").GetInt64(), 1, probes.GetProperty("total").GetInt64() - 1);
    }

    [Fact(Timeout = 90_000)]
    public async Task WhileTheHostDrainsOnStop_NoProbeIsRecordedAsDown()
    {
        var root = Directory.CreateTempSubdirectory("pype-probe-stop-").FullName;
        try
        {
            var app = new TestApp("draining") { Health = new() { ["path"] = "/health", ["intervalSeconds"] = 1 } };
            Task<HttpResponseMessage> slow;
            using var client = new HttpClient();
            await using (var host = await TestHost.StartAsync([app], root: root))
            {
                host.KeepRoot = true;
                await Wait.UntilAsync(async () => (await host.Admin.GetStringAsync("/metrics")).Contains("pype_probe_up{app=\"draining\",environment=\"TEST\"} 1", StringComparison.Ordinal),
                    TimeSpan.FromSeconds(30), "a probe found the app up");
                // The host drains this request for seconds after it stopped listening: probes then would fail.
                slow = client.GetAsync(new Uri(host.Client.BaseAddress!, "/apps/draining/slow?ms=4000"));
                await Wait.UntilAsync(async () => (await host.AppStatusAsync("draining")).GetProperty("workers").EnumerateArray().Any(w => w.GetProperty("inFlight").GetInt32() > 0),
                    TimeSpan.FromSeconds(10), "the slow request is in hand");
            }

            using (var response = await slow)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            using var ledger = PyPE.Host.Slo.SloLedger.Open(Path.Combine(root, "slo.db"));
            var counts = ledger.Totals(0, long.MaxValue).Regular["draining"];
            Assert.True(counts.Probes >= 1, "probes were recorded");
            Assert.Equal(counts.Probes, counts.ProbesOk);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task AForgedProbeMarker_IsAnOrdinaryHeader_AndTheRequestIsCounted()
    {
        await using var host = await TestHost.StartAsync([new TestApp("secret")]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apps/secret/echo");
        request.Headers.TryAddWithoutValidation("X-PyPE-Synthetic", "guess");

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"HTTP_X_PYPE_SYNTHETIC\": \"guess\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // A forged marker is an ordinary header: the request is counted like any other.
        var metrics = await host.Admin.GetStringAsync("/metrics");
        Assert.Contains("pype_http_requests_total{app=\"secret\",class=\"dynamic\",status_class=\"2xx\",origin=\"app\",environment=\"TEST\"} 1", metrics, StringComparison.Ordinal);
    }

    [System.Text.RegularExpressions.GeneratedRegex("pype_probes_total\\{app=\"probed\",result=\"up\",environment=\"TEST\"\\} [1-9]")]
    private static partial System.Text.RegularExpressions.Regex ProbedUp();

    [System.Text.RegularExpressions.GeneratedRegex("pype_probes_total\\{app=\"broken\",result=\"down\",environment=\"TEST\"\\} [1-9]")]
    private static partial System.Text.RegularExpressions.Regex BrokenDown();

    private static async Task<JsonElement> SloAsync(TestHost host) => JsonDocument.Parse(await host.Admin.GetStringAsync("/slo")).RootElement;

    private static JsonElement Window(JsonElement slo, string objective) =>
        slo.GetProperty("objectives").EnumerateArray().First(o => o.GetProperty("id").GetString() == objective).GetProperty("windows").GetProperty("1h");
}
