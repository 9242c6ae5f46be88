using System.Net;
using System.Text.Json;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Dispatch;

public sealed class RoutingTests
{
    [Fact(Timeout = 60_000)]
    public async Task HostRoutesWin_ThenTheLongestPathPrefix()
    {
        await using var host = await TestHost.StartAsync(
        [
            new TestApp("site") { PathPrefix = "" },
            new TestApp("apps") { PathPrefix = "/apps" },
            new TestApp("deep") { PathPrefix = "/apps/deep" },
            new TestApp("vhost") { PathPrefix = "/apps", Hosts = ["portal.example.edu"] },
        ]);

        Assert.Equal(("apps", "/apps"), await WhoAnswersAsync(host, "/apps/echo"));
        Assert.Equal(("deep", "/apps/deep"), await WhoAnswersAsync(host, "/apps/deep/echo"));
        Assert.Equal(("site", ""), await WhoAnswersAsync(host, "/echo"));
        Assert.Equal(("vhost", "/apps"), await WhoAnswersAsync(host, "/apps/echo", "portal.example.edu"));
        Assert.Equal(("vhost", "/apps"), await WhoAnswersAsync(host, "/apps/echo", "PORTAL.example.edu:8443"));
        // A host route covers only its own prefix; the rest of that host falls back to host-less routes.
        Assert.Equal(("site", ""), await WhoAnswersAsync(host, "/echo", "portal.example.edu"));
        // "/apps/deeper" is not under "/apps/deep": it belongs to "/apps", whose app sees PATH_INFO /deeper/echo.
        // (The test app answers its own 404 naming the PATH_INFO it got.)
        using var deeper = await host.Client.GetAsync("/apps/deeper/echo");
        Assert.Equal(HttpStatusCode.NotFound, deeper.StatusCode);
        Assert.Equal("not found: /deeper/echo", await deeper.Content.ReadAsStringAsync());
    }

    private static async Task<(string App, string ScriptName)> WhoAnswersAsync(TestHost host, string path, string? hostHeader = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (hostHeader is not null)
        {
            request.Headers.Host = hostHeader;
        }

        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var workerId = echo.GetProperty("worker_id").GetString()!;
        return (workerId[..workerId.LastIndexOf('-')], echo.GetProperty("SCRIPT_NAME").GetString()!);
    }
}
