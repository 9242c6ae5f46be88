using System.Globalization;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace PyPE.Host.StaticFiles;

/// <summary>A small static file held in memory with its headers, made once per file version (<see cref="StaticFileCache"/>).</summary>
internal sealed class CachedFile
{
    public CachedFile(byte[] body, DateTimeOffset modified, string contentType)
    {
        Body = body;
        Modified = modified;
        ContentType = contentType;
        LastModifiedTruncated = Truncate(modified);
        LastModified = LastModifiedTruncated.ToString("R", CultureInfo.InvariantCulture);
        var etag = MakeETag(LastModifiedTruncated, body.Length);
        ETag = etag;
        EntityTag = new EntityTagHeaderValue(etag);
    }

    public byte[] Body { get; }

    public DateTimeOffset Modified { get; }

    public StringValues ContentType { get; }

    /// <summary>As ASP.NET's static file middleware makes it (time truncated to the second, XOR length), so both paths agree.</summary>
    public StringValues ETag { get; }

    public EntityTagHeaderValue EntityTag { get; }

    /// <summary>The modification time as validators carry it (and the middleware compares it): whole seconds, UTC.</summary>
    public DateTimeOffset LastModifiedTruncated { get; }

    public StringValues LastModified { get; }

    private long _validatedAt;
    private int _checking;

    /// <summary>When the disk last agreed (a <see cref="TimeProvider"/> timestamp); written by the check on the thread pool.</summary>
    public long ValidatedAt
    {
        get => Volatile.Read(ref _validatedAt);
        set => Volatile.Write(ref _validatedAt, value);
    }

    /// <summary>True for the one caller that is to run the check now; false while one runs.</summary>
    public bool TryBeginCheck() => Interlocked.Exchange(ref _checking, 1) == 0;

    public void EndCheck() => Volatile.Write(ref _checking, 0);

    private static DateTimeOffset Truncate(DateTimeOffset time) =>
        new DateTimeOffset(time.Year, time.Month, time.Day, time.Hour, time.Minute, time.Second, time.Offset).ToUniversalTime();

    private static string MakeETag(DateTimeOffset truncated, long length) =>
        "\"" + Convert.ToString(truncated.ToFileTime() ^ length, 16) + "\"";
}
