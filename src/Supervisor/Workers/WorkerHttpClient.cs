using System.Net;
using System.Net.Sockets;

namespace PyPE.Supervisor.Workers;

/// <summary>
/// Creates the HTTP client of one worker: HTTP/1.1 over its Unix socket with pooled keep-alive connections.
/// Everything a public client does per request (proxy lookup, cookies, decompression, redirects, tracing
/// headers) is switched off: the hop to the worker is the hot path.
/// </summary>
internal static class WorkerHttpClient
{
    public static HttpMessageInvoker Create(Worker worker)
    {
        var endpoint = new UnixDomainSocketEndPoint(worker.SocketPath);
        var capacity = worker.Capacity;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ActivityHeadersPropagator = null,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // The dispatcher never sends more than `capacity` requests at once; one spare connection
            // covers a connection that is being torn down while its replacement opens.
            MaxConnectionsPerServer = capacity + 1,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxResponseHeadersLength = 64, // KiB
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endpoint, cancellationToken);
                    return new ActivityRecordingStream(new NetworkStream(socket, ownsSocket: true), worker);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpMessageInvoker(handler, disposeHandler: true);
    }
}
