using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Primitives;

namespace PyPE.Host.StaticFiles;

/// <summary>
/// A physical file provider that serves only regular files whose real path (symlinks resolved) lies inside
/// the folder's real path, refuses any path with a segment starting with '.' (.git, .env, ...), and never
/// lists folders. The folder's real path is resolved on each lookup, so a "current → releases/N" symlink
/// swap takes effect at once.
/// </summary>
internal sealed class ContainedFileProvider(string root) : IFileProvider, IDisposable
{
    private readonly PhysicalFileProvider _inner = new(root, ExclusionFilters.Sensitive);

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

        var realRoot = RealPath.Resolve(root);
        var real = RealPath.Resolve(file.PhysicalPath);
        return realRoot is not null && real is not null && real.StartsWith(realRoot.TrimEnd('/') + "/", StringComparison.Ordinal)
            ? file
            : new NotFoundFileInfo(subpath);
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
