using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Time.Testing;
using PyPE.Host.StaticFiles;
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

/// <summary>The in-memory fast path for small files: same validators as the full path, and it follows the disk.</summary>
public sealed class StaticFileCacheTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pype-static-cache-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task CachedFile_AgreesWithTheFullPath_FollowsChanges_AndStaysInsideItsFolder()
    {
        var file = Path.Combine(_folder, "a.css");
        await File.WriteAllTextAsync(file, "a { }\n");
        await using var host = await TestHost.StartAsync([new TestApp("sc") { Static = new() { ["/apps/sc/static"] = _folder } }]);

        using var again = await host.Client.GetAsync("/apps/sc/static/a.css");
        Assert.Equal("a { }\n", await again.Content.ReadAsStringAsync());
        // A range request takes the full path (ASP.NET's middleware): both must name the file version alike.
        using var ranged = new HttpRequestMessage(HttpMethod.Get, "/apps/sc/static/a.css");
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, null);
        using var full = await host.Client.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, full.StatusCode);
        Assert.Equal(full.Headers.ETag, again.Headers.ETag);
        Assert.Equal("text/css", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal(6, again.Content.Headers.ContentLength);

        // The conditional request (answered from memory too) knows the ETag the cache gave.
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/apps/sc/static/a.css");
        conditional.Headers.IfNoneMatch.Add(again.Headers.ETag!);
        using var notModified = await host.Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/apps/sc/static/a.css"));
        Assert.Equal(6, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        // A changed file is served within about a second.
        await File.WriteAllTextAsync(file, "a { color: red }\n");
        await Wait.UntilAsync(async () => await host.Client.GetStringAsync("/apps/sc/static/a.css") == "a { color: red }\n",
            TimeSpan.FromSeconds(10), "the changed file is served");

        // Replaced by a link to a file outside the folder: refused once the cache looks again.
        var outside = Path.Combine(Path.GetTempPath(), "pype-outside-" + Guid.NewGuid().ToString("N") + ".css");
        await File.WriteAllTextAsync(outside, "secret { }\n");
        try
        {
            File.Delete(file);
            File.CreateSymbolicLink(file, outside);
            await Wait.UntilAsync(async () =>
            {
                using var response = await host.Client.GetAsync("/apps/sc/static/a.css");
                return response.StatusCode == HttpStatusCode.NotFound;
            }, TimeSpan.FromSeconds(10), "the link out of the folder is refused");
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task FileWhoseSecondIsUp_IsServedFromMemoryAtOnce_WhileTheCheckRunsBesideIt()
    {
        var file = Path.Combine(_folder, "b.css");
        await File.WriteAllTextAsync(file, "b { }\n");
        var time = new FakeTimeProvider();
        var fallbacks = 0;
        using var files = new ContainedFileProvider(_folder);
        var cache = new StaticFileCache("/s", files, new FileExtensionContentTypeProvider(), _ =>
        {
            Interlocked.Increment(ref fallbacks);
            return Task.CompletedTask;
        }, time);

        Assert.Equal("b { }\n", await GetAsync(cache, "/s/b.css"));
        await File.WriteAllTextAsync(file, "b { color: red }\n");
        Assert.Equal("b { }\n", await GetAsync(cache, "/s/b.css"));

        // The second has just run out: this request still gets the version in memory; the check it started brings the new one.
        time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal("b { }\n", await GetAsync(cache, "/s/b.css"));
        await Wait.UntilAsync(async () => await GetAsync(cache, "/s/b.css") == "b { color: red }\n", TimeSpan.FromSeconds(10), "the check brings the changed file");

        // Deleted: the next check drops it, and the middleware answers (a 404 there).
        File.Delete(file);
        time.Advance(TimeSpan.FromSeconds(2));
        await Wait.UntilAsync(async () =>
        {
            await GetAsync(cache, "/s/b.css");
            return Volatile.Read(ref fallbacks) > 0;
        }, TimeSpan.FromSeconds(10), "the deleted file goes to the middleware");
    }

    [Fact(Timeout = 30_000)]
    public async Task FileNotAskedForLonger_WaitsForItsCheck_AndIsNeverServedStale()
    {
        var file = Path.Combine(_folder, "e.css");
        await File.WriteAllTextAsync(file, "e { }\n");
        var time = new FakeTimeProvider();
        using var files = new ContainedFileProvider(_folder);
        var cache = new StaticFileCache("/s", files, new FileExtensionContentTypeProvider(), _ => Task.CompletedTask, time);
        Assert.Equal("e { }\n", await GetAsync(cache, "/s/e.css"));

        // Changed during a quiet hour: the first request after it gets the new file, not the one in memory.
        await File.WriteAllTextAsync(file, "e { color: red }\n");
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal("e { color: red }\n", await GetAsync(cache, "/s/e.css"));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("/s/missing.css", null)] // a miss: the disk is asked
    [InlineData("/s/c.css", "If-Match")] // a precondition the cache leaves to the middleware, which stats the file
    [InlineData("/s/c.css", "Range")]
    public async Task DiskWork_NeverRunsOnTheRequestsOwnThread(string path, string? header)
    {
        await File.WriteAllTextAsync(Path.Combine(_folder, "c.css"), "c { }\n");
        using var files = new ContainedFileProvider(_folder);
        var context = Request(path);
        if (header is not null)
        {
            context.Request.Headers[header] = header == "Range" ? "bytes=0-1" : "\"x\"";
        }

        var caller = Environment.CurrentManagedThreadId;
        var returned = false;
        var ranInline = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = new StaticFileCache("/s", files, new FileExtensionContentTypeProvider(), _ =>
        {
            // On the caller's thread before ServeAsync returned = run inline (the same thread later is the pool's reuse).
            ranInline.TrySetResult(Environment.CurrentManagedThreadId == caller && !Volatile.Read(ref returned));
            return Task.CompletedTask;
        });

        var serving = cache.ServeAsync(context);
        Volatile.Write(ref returned, true);
        await serving.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(await ranInline.Task.WaitAsync(TimeSpan.FromSeconds(10)), "the middleware ran on the request's own thread");
    }

    public static TheoryData<string, string?, string?> Validators() => new()
    {
        // method, If-None-Match, If-Modified-Since ("MTIME" = the file's own time, "MTIME-1h", "FUTURE")
        { "GET", "ETAG", null },
        { "HEAD", "ETAG", null },
        { "GET", "\"other\"", null },
        { "GET", "*", null },
        { "GET", "W/ETAG", null }, // weak: the middleware compares strongly
        { "GET", "\"a\", ETAG", null },
        { "GET", "not-quoted", null },
        { "GET", null, "MTIME" },
        { "HEAD", null, "MTIME" },
        { "GET", null, "MTIME-1h" },
        { "GET", null, "FUTURE" },
        { "GET", null, "not a date" },
        { "GET", "ETAG", "MTIME-1h" },
        { "GET", "\"other\"", "MTIME" },
        { "GET", "ETAG", "MTIME" },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Validators))]
    public async Task ConditionalRequests_AreAnsweredAsTheMiddlewareAnswersThem(string method, string? ifNoneMatch, string? ifModifiedSince)
    {
        var path = Path.Combine(_folder, "d.css");
        await File.WriteAllTextAsync(path, "d { }\n");
        File.SetLastWriteTimeUtc(path, new DateTime(2026, 3, 1, 12, 0, 0, 500, DateTimeKind.Utc));
        using var files = new ContainedFileProvider(_folder);
        var contentTypes = new FileExtensionContentTypeProvider();
        var options = new StaticFileOptions { RequestPath = "/s", FileProvider = files, ContentTypeProvider = contentTypes };
        var middleware = new StaticFileMiddleware(_ => Task.CompletedTask, new TestWebHostEnvironment(), Microsoft.Extensions.Options.Options.Create(options),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var cache = new StaticFileCache("/s", files, contentTypes, _ => throw new InvalidOperationException("the cache handed the request on"));
        Assert.Equal("d { }\n", await GetAsync(cache, "/s/d.css")); // now in memory
        var etag = (await Answer(middleware.Invoke, Request("/s/d.css"))).Headers.ETag.ToString();

        HttpContext Conditional()
        {
            var context = Request("/s/d.css");
            context.Request.Method = method;
            if (ifNoneMatch is not null)
            {
                context.Request.Headers.IfNoneMatch = ifNoneMatch.Replace("ETAG", etag, StringComparison.Ordinal);
            }

            if (ifModifiedSince is not null)
            {
                var modified = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
                context.Request.Headers.IfModifiedSince = ifModifiedSince switch
                {
                    "MTIME" => modified.ToString("R", CultureInfo.InvariantCulture),
                    "MTIME-1h" => modified.AddHours(-1).ToString("R", CultureInfo.InvariantCulture),
                    "FUTURE" => DateTimeOffset.UtcNow.AddDays(1).ToString("R", CultureInfo.InvariantCulture),
                    var text => text,
                };
            }

            return context;
        }

        var expected = await Answer(middleware.Invoke, Conditional());
        var actual = await Answer(cache.ServeAsync, Conditional());

        Assert.Equal(expected.StatusCode, actual.StatusCode);
        foreach (var header in new[] { "ETag", "Last-Modified", "Content-Type", "Accept-Ranges", "Content-Length" })
        {
            Assert.Equal(expected.Headers[header].ToString(), actual.Headers[header].ToString());
        }

        Assert.Equal(((MemoryStream)expected.Body).ToArray(), ((MemoryStream)actual.Body).ToArray());
    }

    [Fact(Timeout = 30_000)]
    public async Task ConcurrentMisses_OfOneFile_ReadItOnce_AndAllGetIt()
    {
        await File.WriteAllTextAsync(Path.Combine(_folder, "f.css"), "f { }\n");
        using var files = new GatedFileProvider(_folder);
        var cache = new StaticFileCache("/s", files, new FileExtensionContentTypeProvider(), _ => throw new InvalidOperationException("the cache handed the request on"));

        files.Close();
        var requests = Enumerable.Range(0, 8).Select(_ => GetAsync(cache, "/s/f.css")).ToList();
        await files.WaitUntilHeldAsync(1);
        // Every request has reached the disk path: the first holds the read; the others wait for it, not the disk.
        await Wait.UntilAsync(() => cache.JoinedReads == 7, TimeSpan.FromSeconds(10), "the other seven wait for the one read");
        files.Open();

        Assert.All(await Task.WhenAll(requests), body => Assert.Equal("f { }\n", body));
        Assert.Equal(1, files.Calls("f.css"));
    }

    [Fact(Timeout = 30_000)]
    public async Task PathNotServedFromMemory_IsLeftToTheMiddlewareForASecond_WithoutAskingTheDisk()
    {
        using var files = new GatedFileProvider(_folder);
        var time = new FakeTimeProvider();
        var fallbacks = 0;
        var cache = new StaticFileCache("/s", files, new FileExtensionContentTypeProvider(), _ =>
        {
            Interlocked.Increment(ref fallbacks);
            return Task.CompletedTask;
        }, time);

        Assert.Equal("", await GetAsync(cache, "/s/g.css"));
        Assert.Equal("", await GetAsync(cache, "/s/g.css"));
        Assert.Equal(2, fallbacks);
        Assert.Equal(1, files.Calls("g.css"));

        // Created meanwhile: the middleware serves it until the second is up, then the cache reads it and keeps it.
        await File.WriteAllTextAsync(Path.Combine(_folder, "g.css"), "g { }\n");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("g { }\n", await GetAsync(cache, "/s/g.css"));
        Assert.Equal("g { }\n", await GetAsync(cache, "/s/g.css"));
        Assert.Equal(2, files.Calls("g.css"));
        Assert.Equal(2, fallbacks);
    }

    [Fact(Timeout = 30_000)]
    public async Task OnceASecondChecks_RunAFewAtATime_WhileEveryHitIsServedFromMemory()
    {
        var names = Enumerable.Range(0, 10).Select(i => $"h{i}.css").ToList();
        foreach (var name in names)
        {
            await File.WriteAllTextAsync(Path.Combine(_folder, name), name);
        }

        using var files = new GatedFileProvider(_folder);
        var time = new FakeTimeProvider();
        var cache = new StaticFileCache("/s", files, new FileExtensionContentTypeProvider(), _ => throw new InvalidOperationException("the cache handed the request on"), time);
        foreach (var name in names)
        {
            Assert.Equal(name, await GetAsync(cache, "/s/" + name));
        }

        // A disk that hangs: every check blocks. Ten hot files whose second is up are all served at once from memory.
        files.Close();
        time.Advance(TimeSpan.FromSeconds(1.5));
        foreach (var name in names)
        {
            var context = Request("/s/" + name);
            var serving = cache.ServeAsync(context);
            Assert.True(serving.IsCompleted, "served from memory, without waiting for the disk");
            Assert.Equal(name, Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()));
        }

        Assert.Equal(StaticFileCache.MaxChecksAtOnce, cache.ChecksRunning);

        files.Open();
        await Wait.UntilAsync(() => cache.ChecksRunning == 0, TimeSpan.FromSeconds(10), "the checks finish once the disk answers");
        Assert.Equal(StaticFileCache.MaxChecksAtOnce, names.Sum(name => files.Calls(name) - 1));
    }

    /// <summary>The contained provider, counting the lookups per path, with a gate that holds them (a hanging disk) while closed.</summary>
    private sealed class GatedFileProvider(string root) : Microsoft.Extensions.FileProviders.IFileProvider, IDisposable
    {
        private readonly ContainedFileProvider _inner = new(root);
        private readonly ManualResetEventSlim _open = new(true);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _calls = new();
        private int _held;

        public int Calls(string name) => _calls.GetValueOrDefault("/" + name);

        public void Close() => _open.Reset();

        public void Open() => _open.Set();

        public Task WaitUntilHeldAsync(int count) =>
            Wait.UntilAsync(() => Volatile.Read(ref _held) >= count, TimeSpan.FromSeconds(10), $"{count} lookups reach the disk");

        public Microsoft.Extensions.FileProviders.IFileInfo GetFileInfo(string subpath)
        {
            _calls.AddOrUpdate(subpath, 1, (_, n) => n + 1);
            Interlocked.Increment(ref _held);
            try
            {
                _open.Wait(TimeSpan.FromSeconds(20));
            }
            finally
            {
                Interlocked.Decrement(ref _held);
            }

            return _inner.GetFileInfo(subpath);
        }

        public Microsoft.Extensions.FileProviders.IDirectoryContents GetDirectoryContents(string subpath) => _inner.GetDirectoryContents(subpath);

        public Microsoft.Extensions.Primitives.IChangeToken Watch(string filter) => _inner.Watch(filter);

        public void Dispose()
        {
            _open.Set();
            _inner.Dispose();
            _open.Dispose();
        }
    }

    private static async Task<HttpResponse> Answer(RequestDelegate handler, HttpContext context)
    {
        await handler(context).WaitAsync(TimeSpan.FromSeconds(10));
        return context.Response;
    }

    private sealed class TestWebHostEnvironment : Microsoft.AspNetCore.Hosting.IWebHostEnvironment
    {
        public string WebRootPath { get; set; } = "";
        public Microsoft.Extensions.FileProviders.IFileProvider WebRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
        public string ApplicationName { get; set; } = "tests";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
        public string ContentRootPath { get; set; } = "";
        public string EnvironmentName { get; set; } = "Production";
    }

    private static DefaultHttpContext Request(string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        return context;
    }

    /// <summary>The body the cache answered with; "" when it handed the request to the fallback.</summary>
    private static async Task<string> GetAsync(StaticFileCache cache, string path)
    {
        var context = Request(path);
        await cache.ServeAsync(context).WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());
    }
}
