using System.Buffers.Text;
using System.Collections.Frozen;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using PyPE.Supervisor.Workers;

namespace PyPE.Host.Dispatch.Hop;

/// <summary>How the worker frames the body that follows a response head (RFC 9112 §6.3).</summary>
internal enum BodyFraming
{
    /// <summary>HEAD, 204, 304: no body whatever the headers say.</summary>
    None,
    ContentLength,
    Chunked,
    /// <summary>No length and not chunked: the body runs until the worker closes the connection.</summary>
    UntilClose,
}

/// <summary>What a parsed response head says about the body and the connection.</summary>
/// <param name="Status">The status code.</param>
/// <param name="Framing">How the body that follows is delimited.</param>
/// <param name="ContentLength">The body's length for <see cref="BodyFraming.ContentLength"/>, else -1 (or the announced length of a HEAD answer).</param>
/// <param name="KeepAlive">Whether the worker keeps the connection open after this answer.</param>
internal readonly record struct ResponseHeadInfo(int Status, BodyFraming Framing, long ContentLength, bool KeepAlive);

/// <summary>
/// Reads a worker's response head (status line and headers) from received bytes and, for a client's request,
/// copies status, reason phrase and end-to-end headers onto the client's response. Hop-by-hop headers stay on
/// the hop; Kestrel does its own framing towards the client (the Content-Length is kept, a chunked body is
/// re-chunked).
/// </summary>
internal static class ResponseHead
{
    private static readonly FrozenSet<string> HopByHop = FrozenSet.ToFrozenSet(
        ["Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "TE", "Trailer", "Transfer-Encoding", "Upgrade"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Header names seen in most answers, so that copying them allocates no name strings.</summary>
    private static readonly FrozenSet<string> CommonNames = FrozenSet.ToFrozenSet(
    [
        "Content-Type", "Content-Length", "Content-Encoding", "Content-Language", "Content-Disposition", "Cache-Control", "Expires",
        "Last-Modified", "ETag", "Vary", "Location", "Set-Cookie", "Date", "Server", "X-Frame-Options", "X-Content-Type-Options",
        "Referrer-Policy", "Cross-Origin-Opener-Policy", "Content-Security-Policy", "Strict-Transport-Security", "Allow", "Pragma",
        "Access-Control-Allow-Origin", "WWW-Authenticate", "Retry-After", "Link",
    ], StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> CommonNameLookup = CommonNames.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> HopByHopLookup = HopByHop.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// Receives until a final (non-interim) answer head is complete, parses it (onto <paramref name="response"/>
    /// when given) and consumes it from the connection's buffer; the body, if any, follows in the buffer.
    /// </summary>
    /// <exception cref="InvalidDataException">The head is unreadable, above <see cref="WorkerConnection.MaxHeadBytes"/>, or switches protocols.</exception>
    /// <exception cref="IOException">The worker closed the connection without answering.</exception>
    public static async ValueTask<ResponseHeadInfo> ReadAsync(WorkerConnection connection, string requestMethod, HttpResponse? response)
    {
        while (true)
        {
            var end = FindEnd(connection.Buffered.Span);
            if (end >= 0)
            {
                var head = Parse(connection.Buffered.Span[..end], requestMethod, response);
                connection.Consume(end);
                if (head.Status >= 200)
                {
                    return head;
                }

                if (head.Status == StatusCodes.Status101SwitchingProtocols)
                {
                    throw new InvalidDataException("The worker switched protocols (101); the hop to a worker is HTTP/1.1 only.");
                }

                continue;
            }

            if (connection.IsFullOfHead)
            {
                throw new InvalidDataException($"The worker's response head is larger than {WorkerConnection.MaxHeadBytes / 1024} KiB.");
            }

            if (await connection.ReceiveAsync() == 0)
            {
                if (!connection.Buffered.IsEmpty)
                {
                    throw new InvalidDataException($"The worker closed the connection in the middle of its response head: '{Printable(connection.Buffered.Span)}'.");
                }

                throw new IOException("The worker closed the connection without answering.");
            }
        }
    }

    /// <summary>Where a received response head ends: the index after its blank line, or -1 while incomplete.</summary>
    private static int FindEnd(ReadOnlySpan<byte> received)
    {
        var end = received.IndexOf("\r\n\r\n"u8);
        return end < 0 ? -1 : end + 4;
    }

    /// <summary>
    /// Parses a complete head (<paramref name="head"/> ends with its blank line). When <paramref name="response"/>
    /// is given, the status and end-to-end headers of a final answer (200 and up) are set on it.
    /// </summary>
    /// <exception cref="InvalidDataException">The head is not a well-formed HTTP/1.x response.</exception>
    /// <exception cref="InvalidOperationException">Kestrel refused a header (a character it may not send).</exception>
    public static ResponseHeadInfo Parse(ReadOnlySpan<byte> head, string requestMethod, HttpResponse? response)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = head[..lineEnd];
        // "HTTP/1.1 200 OK": version, a three-digit status, an optional reason phrase.
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out var digits) || digits != 3 || status < 100
            || (statusLine.Length > 12 && statusLine[12] != (byte)' '))
        {
            throw new InvalidDataException($"The worker sent an unreadable status line: '{Printable(statusLine)}'.");
        }

        if (status < 200)
        {
            // An interim answer (103 Early Hints, say): the caller skips it and reads the final one.
            return new ResponseHeadInfo(status, BodyFraming.None, -1, KeepAlive: true);
        }

        var keepAlive = statusLine[7] == (byte)'1';
        long contentLength = -1;
        var chunked = false;
        if (response is not null)
        {
            response.StatusCode = status;
            var reason = statusLine.Length > 13 ? Encoding.Latin1.GetString(statusLine[13..]) : "";
            if (reason.Length > 0 && reason != ReasonPhrases.GetReasonPhrase(status))
            {
                response.HttpContext.Features.GetRequiredFeature<IHttpResponseFeature>().ReasonPhrase = reason;
            }
        }

        Span<char> nameChars = stackalloc char[128];
        for (var rest = head[(lineEnd + 2)..^2]; !rest.IsEmpty;)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            var line = rest[..lineEnd];
            rest = rest[(lineEnd + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[0] is (byte)' ' or (byte)'\t' || line[colon - 1] is (byte)' ' or (byte)'\t')
            {
                throw new InvalidDataException($"The worker sent an unreadable header line: '{Printable(line)}'.");
            }

            var nameBytes = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (nameBytes.Length <= nameChars.Length)
            {
                // Most names are known: compare without making a string.
                var chars = nameChars[..Encoding.Latin1.GetChars(nameBytes, nameChars)];
                if (chars.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    if (!Utf8Parser.TryParse(value, out long length, out var used) || used != value.Length || length < 0
                        || (contentLength >= 0 && contentLength != length))
                    {
                        throw new InvalidDataException($"The worker sent an invalid Content-Length: '{Printable(value)}'.");
                    }

                    contentLength = length;
                    continue;
                }

                if (chars.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    chunked = IsChunked(value);
                    continue;
                }

                if (chars.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                {
                    keepAlive = HasToken(value, "keep-alive"u8) || (keepAlive && !HasToken(value, "close"u8));
                    continue;
                }

                if (response is not null && !HopByHopLookup.Contains(chars))
                {
                    var name = CommonNameLookup.TryGetValue(chars, out var known) ? known : new string(chars);
                    response.Headers.Append(name, Encoding.Latin1.GetString(value));
                }

                continue;
            }

            if (response is not null)
            {
                response.Headers.Append(Encoding.Latin1.GetString(nameBytes), Encoding.Latin1.GetString(value));
            }
        }

        BodyFraming framing;
        if (HttpMethods.IsHead(requestMethod) || status is 204 or 304)
        {
            framing = BodyFraming.None;
        }
        else if (chunked)
        {
            // A length beside chunked framing is ignored (RFC 9112 §6.3): Kestrel must not enforce it.
            framing = BodyFraming.Chunked;
            contentLength = -1;
        }
        else if (contentLength >= 0)
        {
            framing = BodyFraming.ContentLength;
        }
        else
        {
            framing = BodyFraming.UntilClose;
            keepAlive = false;
        }

        if (response is not null && contentLength >= 0 && status != StatusCodes.Status204NoContent)
        {
            response.ContentLength = contentLength;
        }

        return new ResponseHeadInfo(status, framing, contentLength, keepAlive);
    }

    /// <summary>Whether the last transfer coding is chunked (anything after chunked would leave the body unframed).</summary>
    private static bool IsChunked(ReadOnlySpan<byte> value)
    {
        var comma = value.LastIndexOf((byte)',');
        var last = (comma < 0 ? value : value[(comma + 1)..]).Trim(" \t"u8);
        return Ascii.EqualsIgnoreCase(last, "chunked"u8);
    }

    private static bool HasToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (var range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A received line as text for an error message: short, control characters escaped.</summary>
    internal static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 120)]);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c is < ' ' or (char)127 ? $"\\x{(int)c:x2}" : c);
        }

        return bytes.Length > 120 ? builder.Append('…').ToString() : builder.ToString();
    }
}
