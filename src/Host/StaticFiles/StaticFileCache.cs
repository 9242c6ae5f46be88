using System.Collections.Concurrent;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace PyPE.Host.StaticFiles;

/// <summary>
/// The fast path for small static files: a plain GET or HEAD is answered from memory with headers computed
/// once per file version, like nginx's open-file cache. Each file is checked against the disk (through the
/// contained provider: still inside its folder, same size and time) at most once a second, so a changed file
/// is served a second or two late. If-None-Match and If-Modified-Since are answered from memory too (304, decided
/// as the middleware decides: <see cref="NotModified"/>); anything else — ranges, If-Match, If-Unmodified-Since,
/// large or unknown files, misses — goes to ASP.NET's static file middleware, which defines the semantics (the
/// ETag is the same).
/// </summary>
/// <remarks>
/// Requests run on the socket's event thread (InlineSocketIo), where a slow disk would stall every connection
/// that thread serves. So nothing here touches the disk on the request's own thread: a hit whose second has just
/// run out is served from memory once more while one check runs on the thread pool (the next requests see its
/// result); a file not checked for two seconds or more (nobody asked for it), a miss, or a request for the
/// middleware (which stats and opens files synchronously) continues on the thread pool. A changed file is so
/// served at most about two seconds late.
/// <para>
/// The disk is asked once per path however many ask at once: concurrent misses of one file wait for one read
/// (<see cref="RefreshOnceAsync"/>). A path the cache does not serve (missing, too large, of no known type) is
/// remembered for a second as such, so its requests go straight to the middleware instead of asking the disk twice;
/// at most <see cref="MaxNotCached"/> such paths (then they are all forgotten: a scan of random paths cannot grow
/// it). At most <see cref="MaxChecksAtOnce"/> once-a-second checks run at once, so on a hanging disk the hits of
/// the next second hold that many pool threads, not one per hot file (a hit that finds them all busy is served from
/// memory and checks later); after that, each path's requests wait for one read, which holds one pool thread per
/// path as long as the disk hangs (the waiting requests hold none).
/// </para>
/// </remarks>
internal sealed class StaticFileCache(string urlPrefix, IFileProvider files, IContentTypeProvider contentTypes, RequestDelegate fallback, TimeProvider? time = null)
{
    /// <summary>Files up to this size are kept in memory.</summary>
    public const long MaxFileBytes = 256 * 1024;

    /// <summary>At most this many files per mount are kept.</summary>
    public const int MaxFiles = 4096;

    /// <summary>At most this many paths per mount are remembered as not served from memory.</summary>
    public const int MaxNotCached = 1024;

    /// <summary>Longer paths are not remembered as not served from memory (1,024 of them stay under a few MiB).</summary>
    public const int MaxNotCachedPathLength = 1024;

    /// <summary>At most this many once-a-second checks of cached files run at once per mount.</summary>
    public const int MaxChecksAtOnce = 4;

    private static readonly StringValues AcceptRanges = "bytes";
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The cached files, looked up by a span of the request path: a hit allocates nothing.</summary>
    private readonly ConcurrentDictionary<string, CachedFile>.AlternateLookup<ReadOnlySpan<char>> _filesBySpan =
        new ConcurrentDictionary<string, CachedFile>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Paths the cache does not serve, with when the disk said so.</summary>
    private readonly ConcurrentDictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _notCachedBySpan =
        new ConcurrentDictionary<string, long>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The disk reads under way, one per path, for everyone who needs that path's answer meanwhile.</summary>
    private readonly ConcurrentDictionary<string, Task<CachedFile?>> _refreshing = new(StringComparer.Ordinal);

    private int _fileCount;
    private int _notCachedCount;
    private int _checksRunning;
    private int _joinedReads;

    /// <summary>Once-a-second checks running now (at most <see cref="MaxChecksAtOnce"/>).</summary>
    internal int ChecksRunning => Volatile.Read(ref _checksRunning);

    /// <summary>Callers that waited for a read another one had started, so far.</summary>
    internal int JoinedReads => Volatile.Read(ref _joinedReads);

    private ConcurrentDictionary<string, CachedFile> Files => _filesBySpan.Dictionary;

    private ConcurrentDictionary<string, long> NotCached => _notCachedBySpan.Dictionary;

    private long RevalidateAfter => _time.TimestampFrequency;

    public Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var headers = request.Headers;
        var head = HttpMethods.IsHead(request.Method);
        if (!(head || HttpMethods.IsGet(request.Method))
            || headers.ContainsKey(HeaderNames.Range) || headers.ContainsKey(HeaderNames.IfMatch) || headers.ContainsKey(HeaderNames.IfUnmodifiedSince))
        {
            return FallbackOnThreadPool(context);
        }

        var path = request.Path.Value ?? "";
        if (path.Length <= urlPrefix.Length + 1)
        {
            return FallbackOnThreadPool(context);
        }

        var requested = path.AsSpan(urlPrefix.Length);
        if (_filesBySpan.TryGetValue(requested, out var cached))
        {
            var sinceChecked = _time.GetTimestamp() - cached.ValidatedAt;
            if (sinceChecked < RevalidateAfter)
            {
                return Serve(context, cached, head);
            }

            if (sinceChecked < 2 * RevalidateAfter)
            {
                // Its second is just up: this version once more while one check brings the next (the string is
                // worth making once a second per file).
                if (TryBeginCheck(cached))
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static state => state.Cache.Revalidate(state.Subpath, state.Cached), (Cache: this, Subpath: requested.ToString(), Cached: cached), preferLocal: false);
                }

                return Serve(context, cached, head);
            }

            // Not checked for longer (nobody asked for it): this request waits for the check, as for a miss.
        }
        else if (_notCachedBySpan.TryGetValue(requested, out var knownAt) && _time.GetTimestamp() - knownAt < RevalidateAfter)
        {
            // The disk said within the second that this is not ours to serve: the middleware answers.
            return FallbackOnThreadPool(context);
        }

        return ServeFromDiskOnThreadPool(context, requested.ToString(), cached, head);
    }

    // Its own method: a lambda in ServeAsync would make every call, hits included, allocate the captured variables.
    private Task ServeFromDiskOnThreadPool(HttpContext context, string subpath, CachedFile? cached, bool head) =>
        Task.Run(() => ServeFromDiskAsync(context, subpath, cached, head));

    /// <summary>200 with the file, or 304 when the request's validators say the client has this version (the headers as ASP.NET's middleware sends them).</summary>
    private Task Serve(HttpContext context, CachedFile file, bool head)
    {
        var request = context.Request;
        var notModified = (request.Headers.ContainsKey(HeaderNames.IfNoneMatch) || request.Headers.ContainsKey(HeaderNames.IfModifiedSince))
            && NotModified.Applies(request, file.EntityTag, file.LastModifiedTruncated, _time.GetUtcNow());
        var response = context.Response;
        response.StatusCode = notModified ? StatusCodes.Status304NotModified : StatusCodes.Status200OK;
        var responseHeaders = response.Headers;
        responseHeaders.ContentType = file.ContentType;
        responseHeaders.ETag = file.ETag;
        responseHeaders.LastModified = file.LastModified;
        responseHeaders.AcceptRanges = AcceptRanges;
        if (notModified)
        {
            return Task.CompletedTask;
        }

        response.ContentLength = file.Body.Length;
        return head ? Task.CompletedTask : response.Body.WriteAsync(file.Body, context.RequestAborted).AsTask();
    }

    private Task FallbackOnThreadPool(HttpContext context) => Task.Run(() => fallback(context));

    /// <summary>
    /// On the thread pool, from start to end (an <c>await</c> of work already finished would continue on the event
    /// thread; one not finished continues on the pool): checks or loads the file, keeps it when there is room, and
    /// serves it — or lets the middleware answer.
    /// </summary>
    private async Task ServeFromDiskAsync(HttpContext context, string subpath, CachedFile? cached, bool head)
    {
        if (await RefreshOnceAsync(subpath, cached) is { } file)
        {
            await Serve(context, file, head);
        }
        else
        {
            await fallback(context);
        }
    }

    /// <summary>One of the <see cref="MaxChecksAtOnce"/> check places, and the file's own (one check per file at once).</summary>
    private bool TryBeginCheck(CachedFile cached)
    {
        // The file's own flag first: while its check runs, its hits write nothing shared.
        if (!cached.TryBeginCheck())
        {
            return false;
        }

        if (Interlocked.Increment(ref _checksRunning) > MaxChecksAtOnce)
        {
            Interlocked.Decrement(ref _checksRunning);
            cached.EndCheck();
            return false;
        }

        return true;
    }

    /// <summary>The once-a-second check of a cached file, on the thread pool: keeps, replaces or drops it.</summary>
    private void Revalidate(string subpath, CachedFile cached)
    {
        try
        {
            // Done already when this call read the disk itself; a read another request started finishes on its own.
            var refreshed = RefreshOnceAsync(subpath, cached);
            if (refreshed.IsFaulted)
            {
                _ = refreshed.Exception; // observed here: no request waits for this one
                // Forget the file: the next request takes the miss path, where the same failure reaches the
                // request's own error handling. (Nothing may escape a thread-pool work item: it would end the process.)
                Forget(subpath, cached);
            }
        }
        finally
        {
            cached.EndCheck();
            Interlocked.Decrement(ref _checksRunning);
        }
    }

    /// <summary>
    /// <see cref="Refresh"/>, once per path at a time: a caller arriving while the disk is asked about the same path
    /// waits for that answer instead of asking again (a cold start's burst for one file reads it once). Exceptions
    /// reach every caller through the task.
    /// </summary>
    private Task<CachedFile?> RefreshOnceAsync(string subpath, CachedFile? cached)
    {
        var mine = new TaskCompletionSource<CachedFile?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = _refreshing.GetOrAdd(subpath, mine.Task);
        if (running != mine.Task)
        {
            Interlocked.Increment(ref _joinedReads);
            return running;
        }

        try
        {
            mine.SetResult(Refresh(subpath, cached));
        }
        catch (Exception ex)
        {
            mine.SetException(ex);
        }
        finally
        {
            _refreshing.TryRemove(KeyValuePair.Create(subpath, mine.Task));
        }

        return mine.Task;
    }

    /// <summary>
    /// Checks <paramref name="cached"/> (or, when null, loads the file) against the disk and keeps the cache in step:
    /// adds a new file when there is room, replaces a changed one, drops one the cache no longer serves (and
    /// remembers the path as not served from memory).
    /// </summary>
    private CachedFile? Refresh(string subpath, CachedFile? cached)
    {
        var file = Load(subpath, cached);
        if (file is null)
        {
            if (cached is not null)
            {
                Forget(subpath, cached);
            }

            RememberNotCached(subpath);
            return null;
        }

        if (cached is null)
        {
            // The place first, so the count never passes the limit however many add at once.
            if (Interlocked.Increment(ref _fileCount) > MaxFiles)
            {
                // Full: the middleware streams it for the next second instead of every request reading it whole.
                Interlocked.Decrement(ref _fileCount);
                RememberNotCached(subpath);
                return file;
            }

            if (!Files.TryAdd(subpath, file))
            {
                Interlocked.Decrement(ref _fileCount);
            }

            if (NotCached.TryRemove(subpath, out _))
            {
                Interlocked.Decrement(ref _notCachedCount);
            }
        }
        else if (file != cached)
        {
            Files.TryUpdate(subpath, file, cached);
        }

        return file;
    }

    private void Forget(string subpath, CachedFile cached)
    {
        if (Files.TryRemove(KeyValuePair.Create(subpath, cached)))
        {
            Interlocked.Decrement(ref _fileCount);
        }
    }

    /// <summary>
    /// Remembers for a second that the cache does not serve <paramref name="subpath"/>. Past <see cref="MaxNotCached"/>
    /// paths they are all forgotten (a clear races with concurrent adds, so the bound holds within a few).
    /// </summary>
    private void RememberNotCached(string subpath)
    {
        if (subpath.Length > MaxNotCachedPathLength)
        {
            return; // a client's long made-up path: not worth the memory
        }

        var now = _time.GetTimestamp();
        if (!NotCached.TryAdd(subpath, now))
        {
            NotCached[subpath] = now;
            return;
        }

        if (Interlocked.Increment(ref _notCachedCount) > MaxNotCached)
        {
            NotCached.Clear();
            Volatile.Write(ref _notCachedCount, 0);
        }
    }

    /// <summary>
    /// The file as the cache would serve it, read from the disk unless <paramref name="cached"/> is still its
    /// version (then that, marked checked now); null when it is not one the cache serves.
    /// </summary>
    private CachedFile? Load(string subpath, CachedFile? cached)
    {
        var now = _time.GetTimestamp();
        // The content type first: it asks no disk. (The contained provider answers "not found" for directories.)
        if (!contentTypes.TryGetContentType(subpath, out var contentType) || files.GetFileInfo(subpath) is not { Exists: true } info || info.Length > MaxFileBytes)
        {
            return null;
        }

        if (cached is not null && cached.Body.Length == info.Length && cached.Modified == info.LastModified)
        {
            cached.ValidatedAt = now;
            return cached;
        }

        try
        {
            using var stream = info.CreateReadStream();
            var body = new byte[info.Length];
            stream.ReadExactly(body);
            return new CachedFile(body, info.LastModified, contentType) { ValidatedAt = now };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Changed or unreadable under our feet: let the middleware answer.
            return null;
        }
    }
}
