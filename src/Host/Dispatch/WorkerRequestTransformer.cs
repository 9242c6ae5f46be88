namespace PyPE.Host.Dispatch;

/// <summary>
/// Shapes the request for the worker: the client's Host header kept, X-Forwarded-For/Proto/Host set by the
/// host (whatever the client claimed), Expect dropped (the body is already buffered). Hop-by-hop headers
/// are dropped by YARP's base transformer.
/// </summary>
internal sealed class WorkerRequestTransformer : Yarp.ReverseProxy.Forwarder.HttpTransformer
{
    public static readonly WorkerRequestTransformer Instance = new();

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var headers = proxyRequest.Headers;
        headers.Remove("X-Forwarded-For");
        headers.Remove("X-Forwarded-Proto");
        headers.Remove("X-Forwarded-Host");
        headers.Remove("X-Forwarded-Prefix");
        headers.Remove("X-Forwarded-Port");
        headers.Remove("X-Real-IP");
        headers.Remove("Forwarded");
        headers.Remove(WorkerProbe.Header);
        headers.ExpectContinue = null;
        headers.Remove("Expect");

        var remote = httpContext.Connection.RemoteIpAddress;
        if (remote is not null)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString());
        }

        headers.TryAddWithoutValidation("X-Forwarded-Proto", httpContext.Request.Scheme);
        if (httpContext.Request.Host.HasValue)
        {
            headers.TryAddWithoutValidation("X-Forwarded-Host", httpContext.Request.Host.Value);
        }

        // HttpClient would add "Connection: close" for HTTP/1.0 clients; the hop to the worker is always kept alive.
        headers.ConnectionClose = false;
    }
}
