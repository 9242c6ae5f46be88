using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace PyPE.Host.Dispatch.Hop;

/// <summary>
/// Writes the request line and headers the worker gets: the client's headers and Host kept; the hop-by-hop
/// ones (and any the client's Connection header names) dropped; X-Forwarded-For/Proto/Host set by the host,
/// whatever the client claimed; Expect dropped (the body is already buffered); a Content-Length for the
/// buffered body. The hop to the worker is always kept alive, so no Connection header is sent.
/// </summary>
internal static class RequestHead
{
    /// <summary>Request headers never passed on: hop-by-hop ones, framing the host sets itself, and claims only the host may make.</summary>
    private static readonly FrozenSet<string> Dropped = FrozenSet.ToFrozenSet(
    [
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Expect", "Content-Length",
        "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Prefix", "X-Forwarded-Port", "X-Real-IP", "Forwarded",
        WorkerProbe.Header, TicketHeader,
    ], StringComparer.OrdinalIgnoreCase);

    /// <summary>Carries the number of a request handed ahead to a busy worker (<see cref="PyPE.Supervisor.Pools.PrefetchTicket"/>).</summary>
    public const string TicketHeader = "X-PyPE-Ticket";

    /// <summary>Methods whose requests carry a body by definition: sent with <c>Content-Length: 0</c> when the client sent none.</summary>
    private static bool ExpectsBody(string method) => HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method);

    /// <summary>Writes the head into <paramref name="head"/> and returns the body to send after it (empty when none).</summary>
    /// <param name="context">The client's request.</param>
    /// <param name="head">Where the head is written (reset first).</param>
    /// <param name="ticket">The request's prefetch ticket (<see cref="PyPE.Supervisor.Pools.PrefetchTicket.HeaderValue"/>); null when it has none.</param>
    public static ReadOnlyMemory<byte> Write(HttpContext context, ArrayBufferWriter<byte> head, string? ticket = null)
    {
        head.ResetWrittenCount();
        var request = context.Request;
        Append(head, request.Method);
        Append(head, " ");
        Append(head, request.PathBase.HasValue ? (request.PathBase + request.Path).ToUriComponent() : request.Path.ToUriComponent());
        Append(head, request.QueryString.Value);
        Append(head, " HTTP/1.1\r\n");

        var headers = request.Headers;
        var connectionNamed = headers.Connection.Count > 0 ? headers.Connection.ToString() : null;
        var hasHost = false;
        foreach (var (name, values) in headers)
        {
            if (Dropped.Contains(name) || name.StartsWith(':') || (connectionNamed is not null && NamesHeader(connectionNamed, name)))
            {
                continue;
            }

            hasHost |= name.Equals("Host", StringComparison.OrdinalIgnoreCase);
            foreach (var value in values)
            {
                AppendHeader(head, name, value);
            }
        }

        if (!hasHost)
        {
            // An HTTP/1.0 client may send no Host; HTTP/1.1 requires one on the hop.
            AppendHeader(head, "Host", "worker");
        }

        if (context.Connection.RemoteIpAddress is { } remote)
        {
            Append(head, "X-Forwarded-For: ");
            Span<char> address = stackalloc char[64];
            (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).TryFormat(address, out var written);
            Append(head, address[..written]);
            Append(head, "\r\n");
        }

        AppendHeader(head, "X-Forwarded-Proto", request.Scheme);
        if (request.Host.HasValue)
        {
            AppendHeader(head, "X-Forwarded-Host", request.Host.Value);
        }

        if (ticket is not null)
        {
            AppendHeader(head, TicketHeader, ticket);
        }

        // The dispatcher buffered the body (RequestBodyBuffer): it goes out whole, with its length.
        ReadOnlyMemory<byte> body = request.Body switch
        {
            MemoryStream buffered when buffered.TryGetBuffer(out var segment) => segment,
            MemoryStream buffered => buffered.ToArray(),
            _ => default,
        };

        if (!body.IsEmpty || ExpectsBody(request.Method))
        {
            Append(head, "Content-Length: ");
            AppendNumber(head, body.Length);
            Append(head, "\r\n");
        }

        Append(head, "\r\n");
        return body;
    }

    /// <summary>Whether a Connection header value (a comma-separated list of tokens) names <paramref name="header"/>.</summary>
    private static bool NamesHeader(string connection, string header)
    {
        foreach (var range in connection.AsSpan().Split(','))
        {
            if (connection.AsSpan()[range].Trim().Equals(header, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static void AppendNumber(ArrayBufferWriter<byte> head, long number)
    {
        Span<char> digits = stackalloc char[20];
        number.TryFormat(digits, out var length, provider: CultureInfo.InvariantCulture);
        Append(head, digits[..length]);
    }

    private static void AppendHeader(ArrayBufferWriter<byte> head, string name, string? value)
    {
        Append(head, name);
        Append(head, ": ");
        Append(head, value);
        Append(head, "\r\n");
    }

    /// <summary>
    /// Latin-1, one byte per character: what Kestrel accepted on the way in goes out unchanged (Kestrel refuses
    /// control characters in headers, so nothing here can break the framing).
    /// </summary>
    private static void Append(ArrayBufferWriter<byte> head, ReadOnlySpan<char> text)
    {
        var written = Encoding.Latin1.GetBytes(text, head.GetSpan(text.Length));
        head.Advance(written);
    }
}
