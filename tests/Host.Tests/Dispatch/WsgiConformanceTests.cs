using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Dispatch;

/// <summary>PEP 3333 through the whole path: Kestrel → dispatch → Unix socket → shim → WSGI app.</summary>
public sealed class WsgiConformanceTests(SharedHostFixture fixture) : IClassFixture<SharedHostFixture>
{
    private HttpClient Client => fixture.Host.Client;

    private async Task<JsonElement> EchoAsync(HttpRequestMessage request)
    {
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact(Timeout = 30_000)]
    public async Task Environ_SplitsScriptNameAndPathInfo_ForPathPrefixApps()
    {
        var echo = await EchoAsync(new HttpRequestMessage(HttpMethod.Get, "/apps/t/echo?a=1&b=%20x"));
        Assert.Equal("/apps/t", echo.GetProperty("SCRIPT_NAME").GetString());
        Assert.Equal("/echo", echo.GetProperty("PATH_INFO").GetString());
        Assert.Equal("a=1&b=%20x", echo.GetProperty("QUERY_STRING").GetString());
        Assert.Equal("GET", echo.GetProperty("REQUEST_METHOD").GetString());
        Assert.Equal("HTTP/1.1", echo.GetProperty("SERVER_PROTOCOL").GetString());
        Assert.Equal("TEST", echo.GetProperty("pype.environment").GetString());
        Assert.True(echo.GetProperty("has_file_wrapper").GetBoolean());
        Assert.True(echo.GetProperty("wsgi.multiprocess").GetBoolean());
        Assert.False(echo.GetProperty("wsgi.run_once").GetBoolean());
    }

    [Fact(Timeout = 30_000)]
    public async Task Environ_PathInfo_IsPercentDecoded()
    {
        var echo = await EchoAsync(new HttpRequestMessage(HttpMethod.Get, "/apps/t/echo/caf%C3%A9%20bar"));
        Assert.Equal("/apps/t", echo.GetProperty("SCRIPT_NAME").GetString());
        // PEP 3333: PATH_INFO is the decoded bytes as latin-1 characters.
        Assert.Equal("/echo/caf\u00c3\u00a9 bar", echo.GetProperty("PATH_INFO").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task ForwardingHeaders_AreSetByTheHost_NotTakenFromTheClient()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apps/t/echo");
        request.Headers.Host = "portal.example.edu";
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        var echo = await EchoAsync(request);

        Assert.Equal("127.0.0.1", echo.GetProperty("REMOTE_ADDR").GetString());
        Assert.Equal("http", echo.GetProperty("wsgi.url_scheme").GetString());
        Assert.Equal("portal.example.edu", echo.GetProperty("HTTP_HOST").GetString());
        Assert.Equal("portal.example.edu", echo.GetProperty("SERVER_NAME").GetString());
        Assert.Equal("80", echo.GetProperty("SERVER_PORT").GetString());
        var headers = echo.GetProperty("headers");
        Assert.Equal("127.0.0.1", headers.GetProperty("HTTP_X_FORWARDED_FOR").GetString());
        Assert.Equal("portal.example.edu", headers.GetProperty("HTTP_X_FORWARDED_HOST").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task HopByHopHeaders_AreNotForwarded()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apps/t/echo");
        request.Headers.TryAddWithoutValidation("Keep-Alive", "timeout=5");
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic eDp5");
        request.Headers.TryAddWithoutValidation("X_Sneaky", "underscore");
        request.Headers.TryAddWithoutValidation("X-Custom", "kept");
        var headers = (await EchoAsync(request)).GetProperty("headers");
        Assert.False(headers.TryGetProperty("HTTP_KEEP_ALIVE", out _));
        Assert.False(headers.TryGetProperty("HTTP_PROXY_AUTHORIZATION", out _));
        Assert.False(headers.TryGetProperty("HTTP_X_SNEAKY", out _));
        Assert.Equal("kept", headers.GetProperty("HTTP_X_CUSTOM").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task ContentLengthBody_ReachesWsgiInput()
    {
        var body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("pype-", 20_000)));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/apps/t/echo") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var echo = await EchoAsync(request);
        Assert.Equal(body.Length, echo.GetProperty("body_length").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), echo.GetProperty("body_sha256").GetString());
        Assert.Equal("application/octet-stream", echo.GetProperty("CONTENT_TYPE").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task ChunkedUpload_ReachesWsgiInputWhole()
    {
        var body = RandomNumberGenerator.GetBytes(300_000);
        using var request = new HttpRequestMessage(HttpMethod.Put, "/apps/t/echo") { Content = new StreamContent(new NonSeekableStream(body)) };
        request.Headers.TransferEncodingChunked = true;
        var echo = await EchoAsync(request);
        Assert.Equal(body.Length, echo.GetProperty("body_length").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), echo.GetProperty("body_sha256").GetString());
        Assert.Equal("PUT", echo.GetProperty("method").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task BodyAboveTheAppsCap_Gets413_WithoutReachingAWorker()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/apps/t/echo") { Content = new ByteArrayContent(new byte[1_000_001]) };
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task StreamedDownload_ArrivesWhole_AndIterableCloseIsCalled()
    {
        using var response = await Client.GetAsync("/apps/t/stream?chunks=50&size=20000&delay_ms=2", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentLength);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(Pattern(50 * 20_000), bytes);
    }

    [Fact(Timeout = 30_000)]
    public async Task FileWrapper_ServesTheFile()
    {
        var bytes = await Client.GetByteArrayAsync("/apps/t/file?size=123457");
        Assert.Equal(Pattern(123_457), bytes);
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteCallable_AndExcInfo_AreHonoured()
    {
        using var write = await Client.GetAsync("/apps/t/write");
        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        Assert.False(string.IsNullOrEmpty(await write.Content.ReadAsStringAsync()));

        using var excInfo = await Client.GetAsync("/apps/t/exc-info");
        Assert.Equal(HttpStatusCode.InternalServerError, excInfo.StatusCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task AppException_Gives500_AndTheWorkerLivesOn()
    {
        var pidsBefore = await fixture.Host.ReadyPidsAsync("t");
        using var failed = await Client.GetAsync("/apps/t/exception");
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        using var ok = await Client.GetAsync("/apps/t/health");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(pidsBefore.Order(), (await fixture.Host.ReadyPidsAsync("t")).Order());
    }

    [Fact(Timeout = 30_000)]
    public async Task ResponseHeaders_RepeatedSetCookie_AreKept()
    {
        using var response = await Client.GetAsync("/apps/t/headers");
        Assert.True(response.Headers.TryGetValues("Set-Cookie", out var cookies));
        Assert.True(cookies.Count() >= 2);
    }

    [Fact(Timeout = 30_000)]
    public async Task ResponseHeaders_WithLatin1Letters_PassThroughByteForByte()
    {
        using var response = await Client.GetAsync("/apps/t/latin1-header");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // HttpClient reads header bytes as Latin-1 too: "ü" is the single byte 0xFC on the wire.
        Assert.Equal("Z\u00fcrich", Assert.Single(response.Headers.GetValues("X-Place")));
    }

    [Fact(Timeout = 30_000)]
    public async Task Head_HasHeadersButNoBody()
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/apps/t/echo"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory(Timeout = 30_000)]
    [InlineData(201)]
    [InlineData(204)]
    [InlineData(302)]
    [InlineData(304)]
    [InlineData(404)]
    [InlineData(503)]
    public async Task AppStatusCodes_PassThrough(int code)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Client.BaseAddress };
        using var response = await client.GetAsync($"/apps/t/status/{code}");
        Assert.Equal(code, (int)response.StatusCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task UnknownRoute_Gets404_ThatListsNothing()
    {
        using var response = await Client.GetAsync("/nope");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("/apps/t", html, StringComparison.Ordinal);
        Assert.DoesNotContain("python", html, StringComparison.OrdinalIgnoreCase);
        // "/apps/tx" is not under "/apps/t".
        using var sibling = await Client.GetAsync("/apps/tx/echo");
        Assert.Equal(HttpStatusCode.NotFound, sibling.StatusCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task ManyKeepAliveRequests_AllSucceed()
    {
        var tasks = Enumerable.Range(0, 8).Select(async _ =>
        {
            for (var i = 0; i < 25; i++)
            {
                using var response = await Client.GetAsync("/apps/t/pid");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        });
        await Task.WhenAll(tasks);
    }

    internal static byte[] Pattern(int size) => [.. Enumerable.Range(0, size).Select(i => (byte)(((i * 31) + 7) % 251))];

    /// <summary>Forces HttpClient to send chunked (it would send Content-Length for a seekable stream).</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
