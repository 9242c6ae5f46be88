using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Primitives;

namespace PyPE.Host.StaticFiles;

/// <summary>
/// A physical file provider that serves only regular files whose real path (symlinks resolved) lies inside
/// the folder's real path, refuses any path with a segment starting with '.' (.git, .env, ...), and never
/// lists folders. The folder's real path is re-resolved at most once a second, so a "current → releases/N"
/// symlink swap takes effect within a second without a realpath call per request.
/// </summary>
internal sealed class ContainedFileProvider(string root) : IFileProvider, IDisposable
{
    private static readonly TimeSpan RootRefresh = TimeSpan.FromSeconds(1);
    private readonly PhysicalFileProvider _inner = new(root, ExclusionFilters.Sensitive);
    private (string? Path, long At) _realRoot = (null, 0);

    public IFileInfo GetFileInfo(string subpath)
    {
        if (HasDotSegment(subpath))
        {
            return new NotFoundFileInfo(subpath);
        }

        var file = _inner.GetFileInfo(subpath);
        if (!file.Exists || file.IsDirectory || file.PhysicalPath is null)
        {
            return new NotFoundFileInfo(subpath);
        }

        var realRoot = RealRoot();
        var real = RealPath.Resolve(file.PhysicalPath);
        return realRoot is not null && real is not null && real.StartsWith(realRoot, StringComparison.Ordinal)
            ? file
            : new NotFoundFileInfo(subpath);
    }

    /// <summary>The folder's real path with a trailing '/', refreshed at most once a second.</summary>
    private string? RealRoot()
    {
        var cached = _realRoot;
        if (cached.Path is null || System.Diagnostics.Stopwatch.GetElapsedTime(cached.At) > RootRefresh)
        {
            var resolved = RealPath.Resolve(root);
            cached = (resolved is null ? null : resolved.TrimEnd('/') + "/", System.Diagnostics.Stopwatch.GetTimestamp());
            _realRoot = cached;
        }

        return cached.Path;
    }

    public IDirectoryContents GetDirectoryContents(string subpath) => NotFoundDirectoryContents.Singleton;

    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;

    public void Dispose() => _inner.Dispose();

    internal static bool HasDotSegment(string subpath)
    {
        var span = subpath.AsSpan();
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] == '.' && (i == 0 || span[i - 1] is '/' or '\\'))
            {
                return true;
            }
        }

        return false;
    }
}
