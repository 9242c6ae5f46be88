using System.Net;
using System.Net.Sockets;

namespace PyPE.Host.Probes;

/// <summary>
/// Where the host's own probes reach its public listener: the first plain-HTTP address Kestrel bound (else
/// HTTPS, else a Unix socket), with a wildcard host replaced by loopback.
/// </summary>
internal sealed record PublicEndpoint(Uri BaseAddress, string? UnixSocketPath)
{
    /// <summary>Picks an endpoint from Kestrel's bound addresses; null when there is none a probe can use.</summary>
    public static PublicEndpoint? From(IEnumerable<string> addresses)
    {
        PublicEndpoint? https = null, unix = null;
        foreach (var address in addresses)
        {
            if (address.StartsWith("http://unix:", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://unix:", StringComparison.OrdinalIgnoreCase))
            {
                var socketPath = address[(address.IndexOf("unix:", StringComparison.OrdinalIgnoreCase) + 5)..];
                unix ??= new PublicEndpoint(new Uri(address.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? "https://localhost/" : "http://localhost/"), socketPath);
                continue;
            }

            // Kestrel reports wildcards as "+", "*", "0.0.0.0" or "[::]"; Uri does not parse the first two.
            var normalized = address.Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal);
            if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri))
            {
                continue;
            }

            var host = uri.HostNameType switch
            {
                UriHostNameType.IPv4 when IPAddress.Parse(uri.Host).Equals(IPAddress.Any) => "127.0.0.1",
                UriHostNameType.IPv6 when IPAddress.Parse(uri.Host.Trim('[', ']')).Equals(IPAddress.IPv6Any) => "[::1]",
                _ => uri.Host.Contains(':', StringComparison.Ordinal) && !uri.Host.StartsWith('[') ? $"[{uri.Host}]" : uri.Host,
            };
            var endpoint = new PublicEndpoint(new UriBuilder(uri.Scheme, host.Trim('[', ']'), uri.Port).Uri, null);
            if (uri.Scheme == Uri.UriSchemeHttp)
            {
                return endpoint;
            }

            https ??= endpoint;
        }

        return https ?? unix;
    }

    /// <summary>An HTTP client for the probes: no redirects, no cookies, no proxy; our own certificate is trusted (loopback to ourselves).</summary>
    public HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        };
#pragma warning disable CA5359 // The probe talks to this very process over loopback; its certificate may be for the public name only.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        if (UnixSocketPath is { } path)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }
}
