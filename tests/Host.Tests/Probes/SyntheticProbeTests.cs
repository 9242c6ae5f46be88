using System.Net;
using System.Text.Json;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Probes;

public sealed class SyntheticProbeTests
{
    [Fact(Timeout = 60_000)]
    public async Task Probes_MeasureTimeBasedAvailability_WithoutCountingAsRequests()
    {
        var up = new TestApp("probed") { Health = new() { ["path"] = "/health", ["intervalSeconds"] = 1 } };
        var down = new TestApp("broken") { Health = new() { ["path"] = "/status/503", ["intervalSeconds"] = 1 } };
        await using var host = await TestHost.StartAsync([up, down]);

        await Wait.UntilAsync(async () => Window(await SloAsync(host), "probe_availability").GetProperty("total").GetInt64() >= 4,
            TimeSpan.FromSeconds(30), "four probes are counted");

        var metrics = await host.Admin.GetStringAsync("/metrics");
        Assert.Contains("pype_probe_up{app=\"probed\",environment=\"TEST\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("pype_probe_up{app=\"broken\",environment=\"TEST\"} 0", metrics, StringComparison.Ordinal);
        Assert.Matches("pype_probes_total\\{app=\"broken\",result=\"down\",environment=\"TEST\"\\} [1-9]", metrics);
        // Probes are not requests: no request was sent, so none is counted.
        Assert.DoesNotMatch("pype_http_requests_total\\{app=\"(probed|broken)\"[^}]*\\} [1-9]", metrics);
        var slo = await SloAsync(host);
        Assert.Equal(0, Window(slo, "availability").GetProperty("total").GetInt64());
        var probes = Window(slo, "probe_availability");
        Assert.InRange(probes.GetProperty("good").GetInt64(), 1, probes.GetProperty("total").GetInt64() - 1);
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

    private static async Task<JsonElement> SloAsync(TestHost host) => JsonDocument.Parse(await host.Admin.GetStringAsync("/slo")).RootElement;

    private static JsonElement Window(JsonElement slo, string objective) =>
        slo.GetProperty("objectives").EnumerateArray().First(o => o.GetProperty("id").GetString() == objective).GetProperty("windows").GetProperty("1h");
}
