namespace PyPE.Host.StaticFiles;

/// <summary>One static folder of an app, served by the host itself under <see cref="UrlPrefix"/>.</summary>
internal sealed class StaticMount(string urlPrefix, string directory, RequestDelegate serve)
{
    public string UrlPrefix { get; } = urlPrefix;

    public string Directory { get; } = directory;

    /// <summary>Serves the request (ETag, Last-Modified, conditional GET, Range), or answers 404.</summary>
    public RequestDelegate Serve { get; } = serve;
}
