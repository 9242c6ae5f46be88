using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Primitives;

namespace PyPE.Host.StaticFiles;

/// <summary>
/// A physical file provider that serves only regular files whose real path (symlinks resolved) lies inside
/// the root, hides dot files, and never lists folders.
/// </summary>
internal sealed class ContainedFileProvider : IFileProvider, IDisposable
{
    private readonly PhysicalFileProvider _inner;
    private readonly string _realRoot;

    public ContainedFileProvider(string root)
    {
        _inner = new PhysicalFileProvider(root, ExclusionFilters.Sensitive);
        _realRoot = RealPath.Resolve(root) is { } real ? real.TrimEnd('/') + "/" : throw new DirectoryNotFoundException(root);
    }

    public IFileInfo GetFileInfo(string subpath)
    {
        var file = _inner.GetFileInfo(subpath);
        if (!file.Exists || file.IsDirectory || file.PhysicalPath is null)
        {
            return new NotFoundFileInfo(subpath);
        }

        var real = RealPath.Resolve(file.PhysicalPath);
        return real is not null && real.StartsWith(_realRoot, StringComparison.Ordinal) ? file : new NotFoundFileInfo(subpath);
    }

    public IDirectoryContents GetDirectoryContents(string subpath) => NotFoundDirectoryContents.Singleton;

    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;

    public void Dispose() => _inner.Dispose();
}
