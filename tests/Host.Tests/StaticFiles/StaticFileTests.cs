using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.StaticFiles;

/// <summary>Static folders are served by the host itself: validators, conditional GET, ranges, types, containment.</summary>
public sealed class StaticFileTests(SharedHostFixture fixture) : IClassFixture<SharedHostFixture>
{
    private HttpClient Client => fixture.Host.Client;

    [Fact(Timeout = 30_000)]
    public async Task File_IsServedWithTypeAndValidators_WithoutAWorker()
    {
        var servedBefore = await RequestsServedAsync();
        using var response = await Client.GetAsync("/apps/t/static/site.css");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.ETag);
        Assert.NotNull(response.Content.Headers.LastModified);
        Assert.Equal("body { color: #123456; }\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(servedBefore, await RequestsServedAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task ConditionalGet_WithTheETag_Gets304()
    {
        using var first = await Client.GetAsync("/apps/t/static/site.css");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apps/t/static/site.css");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);

        using var byDate = new HttpRequestMessage(HttpMethod.Get, "/apps/t/static/site.css");
        byDate.Headers.IfModifiedSince = first.Content.Headers.LastModified;
        using var third = await Client.SendAsync(byDate);
        Assert.Equal(HttpStatusCode.NotModified, third.StatusCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task RangeRequest_Gets206_WithThoseBytes()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apps/t/static/data.bin");
        request.Headers.Range = new RangeHeaderValue(100, 199);
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(Enumerable.Range(100, 100).Select(i => (byte)(i % 251)), bytes);
        Assert.Equal("bytes 100-199/10000", response.Content.Headers.ContentRange?.ToString());
    }

    [Theory(Timeout = 30_000)]
    [InlineData("/apps/t/static/missing.css")]
    [InlineData("/apps/t/static/.secret")]
    [InlineData("/apps/t/static/.git/config")]
    [InlineData("/APPS/T/static/site.css")]
    [InlineData("/apps/t/static/escape.txt")]
    [InlineData("/apps/t/static/")]
    [InlineData("/apps/t/static/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("/apps/t/static/..%2f..%2fetc%2fpasswd")]
    public async Task NothingOutsideTheFolder_NorHiddenOrMissing_IsServed(string path)
    {
        using var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("root:", body, StringComparison.Ordinal);
        Assert.DoesNotContain("outside the static folder", body, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task RawDotDotSegments_NeverEscapeTheFolder()
    {
        // HttpClient would normalize "..": send the request line by hand.
        var address = Client.BaseAddress!;
        using var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port);
        var stream = socket.GetStream();
        var request = Encoding.ASCII.GetBytes("GET /apps/t/static/../../../../etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var text = await reader.ReadToEndAsync();
        Assert.DoesNotContain("root:", text, StringComparison.Ordinal);
        Assert.DoesNotContain("200 OK", text.Split('\n')[0], StringComparison.Ordinal);
    }

    private async Task<long> RequestsServedAsync()
    {
        var status = await fixture.Host.AppStatusAsync("t");
        return status.GetProperty("workers").EnumerateArray().Sum(w => w.GetProperty("requestsServed").GetInt64());
    }
}
