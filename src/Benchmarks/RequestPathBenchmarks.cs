using System.Buffers;
using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using PyPE.Host.Dispatch.Hop;
using PyPE.Host.StaticFiles;

namespace PyPE.Benchmarks;

/// <summary>The rest of a request's path through the host: the request head for the worker, the worker's answer head, and static files.</summary>
[MemoryDiagnoser]
public class RequestPathBenchmarks : IDisposable
{
    private readonly DefaultHttpContext _context = new();
    private readonly ArrayBufferWriter<byte> _head = new(1024);
    private readonly DefaultHttpContext _answered = new();

    /// <summary>What the worker shim sends for the sample's trivial JSON view (Django's default security headers included).</summary>
    private static readonly byte[] JsonAnswerHead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Frame-Options: DENY\r\nContent-Length: 16\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: same-origin\r\n\r\n"u8.ToArray();
    private string _root = "";
    private ContainedFileProvider _files = null!;
    private StaticFileCache _cache = null!;
    private DefaultHttpContext _staticRequest = null!;
    private DefaultHttpContext _conditionalRequest = null!;

    [GlobalSetup]
    public void Setup()
    {
        var headers = _context.Request.Headers;
        _context.Request.Scheme = "https";
        _context.Request.Method = "GET";
        _context.Request.Path = "/apps/directory/people/42";
        _context.Request.Host = new HostString("portal.example.edu");
        _context.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.17");
        headers.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        headers.Accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        headers.AcceptEncoding = "gzip, deflate, br";
        headers.AcceptLanguage = "de-CH,de;q=0.9,en;q=0.8";
        headers.Cookie = "sessionid=abc123; csrftoken=def456";
        headers["X-Forwarded-For"] = "203.0.113.9";

        _root = Directory.CreateTempSubdirectory("pype-bench-static-").FullName;
        Directory.CreateDirectory(Path.Combine(_root, "css"));
        File.WriteAllText(Path.Combine(_root, "css", "site.css"), "body { margin: 0 }\n");
        _files = new ContainedFileProvider(_root);

        // The static fast path: a browser's GET of a cached small file, answered into a stream that discards.
        _cache = new StaticFileCache("/apps/directory/static", _files, new Microsoft.AspNetCore.StaticFiles.FileExtensionContentTypeProvider(), _ => Task.CompletedTask);
        _staticRequest = new DefaultHttpContext();
        _staticRequest.Request.Method = "GET";
        _staticRequest.Request.Path = "/apps/directory/static/css/site.css";
        _staticRequest.Request.Headers.Accept = "text/css,*/*;q=0.1";
        _staticRequest.Response.Body = Stream.Null;
        _cache.ServeAsync(_staticRequest).GetAwaiter().GetResult();
        if (_staticRequest.Response.ContentLength != new FileInfo(Path.Combine(_root, "css", "site.css")).Length)
        {
            // The fallback answered: the benchmark would measure a miss, not the cache.
            throw new InvalidOperationException("the static cache did not serve the benchmark's file");
        }

        _conditionalRequest = new DefaultHttpContext();
        _conditionalRequest.Request.Method = "GET";
        _conditionalRequest.Request.Path = _staticRequest.Request.Path;
        _conditionalRequest.Request.Headers.Accept = "text/css,*/*;q=0.1";
        _conditionalRequest.Request.Headers.IfNoneMatch = _staticRequest.Response.Headers.ETag;
        _conditionalRequest.Response.Body = Stream.Null;
        _cache.ServeAsync(_conditionalRequest).GetAwaiter().GetResult();
        if (_conditionalRequest.Response.StatusCode != StatusCodes.Status304NotModified)
        {
            throw new InvalidOperationException("the static cache did not answer the benchmark's revalidation with 304");
        }
    }

    /// <summary>A GET answered from the static cache: lookup, status, four headers, the body (re-checked against the disk once a second).</summary>
    [Benchmark]
    public Task ServeCachedStaticFile()
    {
        _staticRequest.Response.Headers.Clear();
        return _cache.ServeAsync(_staticRequest);
    }

    /// <summary>A browser's revalidation (If-None-Match with the file's ETag) answered 304 from the static cache.</summary>
    [Benchmark]
    public Task AnswerNotModifiedFromCache()
    {
        _conditionalRequest.Response.Headers.Clear();
        return _cache.ServeAsync(_conditionalRequest);
    }

    /// <summary>The request head for the worker: request line, the client's headers (hop-by-hop and spoofed ones dropped), ours (X-Forwarded-*).</summary>
    [Benchmark]
    public int WriteRequestHead()
    {
        RequestHead.Write(_context, _head);
        return _head.WrittenCount;
    }

    /// <summary>The worker's answer head read and copied onto the client's response (status, end-to-end headers, length).</summary>
    [Benchmark]
    public long ParseResponseHead()
    {
        _answered.Response.Headers.Clear();
        return ResponseHead.Parse(JsonAnswerHead, HttpMethods.Get, _answered.Response).ContentLength;
    }

    /// <summary>Resolving a static file inside its folder (dot segments and symlinks out of it refused).</summary>
    [Benchmark(Baseline = true)] // the file system asked on every request: what the static cache is measured against
    public bool FindStaticFile() => _files.GetFileInfo("/css/site.css").Exists;

    [Benchmark]
    public bool MissStaticFile() => _files.GetFileInfo("/css/none.css").Exists;

    [GlobalCleanup]
    public void Dispose()
    {
        _files?.Dispose();
        if (_root.Length > 0)
        {
            Directory.Delete(_root, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
