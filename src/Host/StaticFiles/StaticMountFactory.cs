using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Options;
using PyPE.Host.Dispatch;
using PyPE.Supervisor.Apps;

namespace PyPE.Host.StaticFiles;

/// <summary>
/// Builds an app's static mounts: small files from memory (<see cref="StaticFileCache"/>), the rest on ASP.NET's
/// static file middleware (validators, conditional GET, ranges, content types) — both over a file provider
/// that refuses anything outside the folder, symlinks included.
/// </summary>
internal sealed class StaticMountFactory(IWebHostEnvironment environment, ILoggerFactory loggers, ErrorPages pages)
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = CreateContentTypes();

    public StaticMount[] Create(AppDefinition app) =>
    [
        .. app.StaticDirectories
            .OrderByDescending(s => s.Key.Length)
            .Select(s => CreateMount(s.Key, s.Value)),
    ];

    private StaticMount CreateMount(string urlPrefix, string directory)
    {
        var files = new ContainedFileProvider(directory);
        var options = new StaticFileOptions
        {
            RequestPath = urlPrefix,
            FileProvider = files,
            ContentTypeProvider = ContentTypes,
            ServeUnknownFileTypes = false,
        };
        var middleware = new StaticFileMiddleware(pages.NotFoundAsync, environment, Options.Create(options), loggers);
        var cache = new StaticFileCache(urlPrefix, files, ContentTypes, middleware.Invoke);
        return new StaticMount(urlPrefix, directory, cache.ServeAsync);
    }

    private static FileExtensionContentTypeProvider CreateContentTypes()
    {
        var provider = new FileExtensionContentTypeProvider();
        provider.Mappings[".mjs"] = "text/javascript";
        provider.Mappings[".map"] = "application/json";
        provider.Mappings[".webmanifest"] = "application/manifest+json";
        provider.Mappings[".avif"] = "image/avif";
        return provider;
    }
}
