using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace PyPE.Host.StaticFiles;

/// <summary>
/// The fast path for small static files: a plain GET or HEAD is answered from memory with headers computed
/// once per file version, like nginx's open-file cache. Each file is checked against the disk (through the
/// contained provider: still inside its folder, same size and time) at most once a second, so a changed file
/// is served at most a second late. Anything else — ranges, conditional requests, large or unknown files,
/// misses — goes to ASP.NET's static file middleware, which defines the semantics (the ETag is the same).
/// </summary>
internal sealed class StaticFileCache(string urlPrefix, ContainedFileProvider files, IContentTypeProvider contentTypes, RequestDelegate fallback)
{
    /// <summary>Files up to this size are kept in memory.</summary>
    public const long MaxFileBytes = 256 * 1024;

    /// <summary>At most this many files per mount are kept.</summary>
    public const int MaxFiles = 4096;

    private static readonly long RevalidateAfter = Stopwatch.Frequency;
    private static readonly StringValues AcceptRanges = "bytes";
    /// <summary>The cached files, looked up by a span of the request path: a hit allocates nothing.</summary>
    private readonly ConcurrentDictionary<string, CachedFile>.AlternateLookup<ReadOnlySpan<char>> _filesBySpan =
        new ConcurrentDictionary<string, CachedFile>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    private ConcurrentDictionary<string, CachedFile> Files => _filesBySpan.Dictionary;

    public Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var headers = request.Headers;
        var head = HttpMethods.IsHead(request.Method);
        if (!(head || HttpMethods.IsGet(request.Method))
            || headers.ContainsKey(HeaderNames.Range) || headers.ContainsKey(HeaderNames.IfNoneMatch) || headers.ContainsKey(HeaderNames.IfModifiedSince)
            || headers.ContainsKey(HeaderNames.IfMatch) || headers.ContainsKey(HeaderNames.IfUnmodifiedSince))
        {
            return fallback(context);
        }

        var path = request.Path.Value ?? "";
        if (path.Length <= urlPrefix.Length + 1 || Lookup(path.AsSpan(urlPrefix.Length)) is not { } file)
        {
            return fallback(context);
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        var responseHeaders = response.Headers;
        responseHeaders.ContentType = file.ContentType;
        responseHeaders.ETag = file.ETag;
        responseHeaders.LastModified = file.LastModified;
        responseHeaders.AcceptRanges = AcceptRanges;
        response.ContentLength = file.Body.Length;
        return head ? Task.CompletedTask : response.Body.WriteAsync(file.Body, context.RequestAborted).AsTask();
    }

    /// <summary>The cached file, revalidated when its second is up; null when it is not one the cache serves.</summary>
    private CachedFile? Lookup(ReadOnlySpan<char> requested)
    {
        var now = Stopwatch.GetTimestamp();
        if (_filesBySpan.TryGetValue(requested, out var cached) && now - cached.ValidatedAt < RevalidateAfter)
        {
            return cached;
        }

        // Once a second per file (or on a miss): the string is worth making now.
        var subpath = requested.ToString();
        // The content type first: it asks no disk. (The contained provider answers "not found" for directories.)
        if (!contentTypes.TryGetContentType(subpath, out var contentType) || files.GetFileInfo(subpath) is not { Exists: true } info || info.Length > MaxFileBytes)
        {
            if (cached is not null)
            {
                Files.TryRemove(subpath, out _);
            }

            return null;
        }

        if (cached is not null && cached.Body.Length == info.Length && cached.Modified == info.LastModified)
        {
            cached.ValidatedAt = now;
            return cached;
        }

        byte[] body;
        try
        {
            using var stream = info.CreateReadStream();
            body = new byte[info.Length];
            stream.ReadExactly(body);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Changed or unreadable under our feet: let the middleware answer.
            Files.TryRemove(subpath, out _);
            return null;
        }

        var file = new CachedFile(body, info.LastModified, contentType) { ValidatedAt = now };
        if (cached is not null || Files.Count < MaxFiles)
        {
            Files[subpath] = file;
        }

        return file;
    }

    private sealed class CachedFile(byte[] body, DateTimeOffset modified, string contentType)
    {
        public byte[] Body { get; } = body;

        public DateTimeOffset Modified { get; } = modified;

        public StringValues ContentType { get; } = contentType;

        /// <summary>As ASP.NET's static file middleware makes it (time truncated to the second, XOR length), so both paths agree.</summary>
        public StringValues ETag { get; } = MakeETag(modified, body.Length);

        public StringValues LastModified { get; } = Truncate(modified).ToString("R", CultureInfo.InvariantCulture);

        public long ValidatedAt { get; set; }

        private static DateTimeOffset Truncate(DateTimeOffset time) =>
            new DateTimeOffset(time.Year, time.Month, time.Day, time.Hour, time.Minute, time.Second, time.Offset).ToUniversalTime();

        private static string MakeETag(DateTimeOffset modified, long length) =>
            "\"" + Convert.ToString(Truncate(modified).ToFileTime() ^ length, 16) + "\"";
    }
}
