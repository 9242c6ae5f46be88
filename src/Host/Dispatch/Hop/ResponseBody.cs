using System.Buffers.Text;
using PyPE.Supervisor.Workers;

namespace PyPE.Host.Dispatch.Hop;

/// <summary>
/// Copies a worker's response body to the client as it arrives, by the worker's framing: each piece is
/// written (and flushed) to the client before more is read from the worker, so a streamed answer streams and
/// a slow client slows the worker's connection, not the host's memory. A chunked body is de-chunked here and
/// re-framed by Kestrel.
/// </summary>
internal static class ResponseBody
{
    /// <summary>The longest chunk-size line accepted (hex size plus extensions).</summary>
    private const int MaxChunkLineBytes = 4096;

    /// <summary>Reads and forwards the body; returns whether the connection ended cleanly at the body's end.</summary>
    /// <exception cref="WorkerClosedException">The worker closed the connection before the body was complete.</exception>
    /// <exception cref="InvalidDataException">The chunked framing is broken.</exception>
    /// <exception cref="ClientWriteException">Writing to the client failed.</exception>
    public static async ValueTask<bool> CopyAsync(HttpContext context, WorkerConnection connection, ResponseHeadInfo head)
    {
        switch (head.Framing)
        {
            case BodyFraming.None:
                return connection.Buffered.IsEmpty;
            case BodyFraming.ContentLength:
                await CopyExactlyAsync(context, connection, head.ContentLength);
                // Bytes beyond the announced length mean the worker is out of step: do not reuse the connection.
                return connection.Buffered.IsEmpty;
            case BodyFraming.Chunked:
                await CopyChunkedAsync(context, connection);
                return connection.Buffered.IsEmpty;
            default:
                while (true)
                {
                    if (!connection.Buffered.IsEmpty)
                    {
                        await WriteAsync(context, connection, connection.Buffered);
                        connection.Consume(connection.Buffered.Length);
                    }

                    if (await connection.ReceiveAsync() == 0)
                    {
                        return false;
                    }
                }
        }
    }

    private static async ValueTask CopyExactlyAsync(HttpContext context, WorkerConnection connection, long length)
    {
        while (length > 0)
        {
            if (connection.Buffered.IsEmpty && await connection.ReceiveAsync() == 0)
            {
                throw new WorkerClosedException(length);
            }

            var piece = connection.Buffered;
            if (piece.Length > length)
            {
                piece = piece[..(int)length];
            }

            await WriteAsync(context, connection, piece);
            connection.Consume(piece.Length);
            length -= piece.Length;
        }
    }

    private static async ValueTask CopyChunkedAsync(HttpContext context, WorkerConnection connection)
    {
        while (true)
        {
            var line = await ReadLineAsync(connection);
            var size = ParseChunkSize(line.Span);
            connection.Consume(line.Length + 2);
            if (size == 0)
            {
                // Trailer fields, then a blank line: read past them (Kestrel gets no trailers from a WSGI app).
                while ((await ReadLineAsync(connection)).Length is var length and > 0)
                {
                    connection.Consume(length + 2);
                }

                connection.Consume(2);
                return;
            }

            await CopyExactlyAsync(context, connection, size);
            if ((await ReadLineAsync(connection)).Length != 0)
            {
                throw new InvalidDataException("The worker's chunk is longer than its size says.");
            }

            connection.Consume(2);
        }
    }

    /// <summary>The size on a chunk-size line ("1a2b" or "1a2b;extension=value").</summary>
    private static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        var sizeEnd = line.IndexOf((byte)';');
        var sizeText = (sizeEnd < 0 ? line : line[..sizeEnd]).Trim(" \t"u8);
        if (!Utf8Parser.TryParse(sizeText, out long size, out var used, 'x') || used != sizeText.Length || size < 0)
        {
            throw new InvalidDataException($"The worker sent an invalid chunk size: '{ResponseHead.Printable(line)}'.");
        }

        return size;
    }

    /// <summary>The next line in the buffer, without its CRLF (not consumed), receiving more as needed.</summary>
    private static async ValueTask<ReadOnlyMemory<byte>> ReadLineAsync(WorkerConnection connection)
    {
        while (true)
        {
            var buffered = connection.Buffered;
            var end = buffered.Span.IndexOf("\r\n"u8);
            if (end >= 0)
            {
                return buffered[..end];
            }

            if (buffered.Length > MaxChunkLineBytes)
            {
                throw new InvalidDataException("The worker sent a chunk line longer than 4 KiB.");
            }

            if (await connection.ReceiveAsync() == 0)
            {
                throw new WorkerClosedException(-1);
            }
        }
    }

    private static async ValueTask WriteAsync(HttpContext context, WorkerConnection connection, ReadOnlyMemory<byte> piece)
    {
        // The worker's silence is timed only while waiting for the worker: a slow client (Kestrel's minimum data
        // rate judges those) must not make a working worker look hung. The next receive starts the clock again.
        connection.Cancellation.CancelAfter(Timeout.InfiniteTimeSpan);
        try
        {
            await context.Response.Body.WriteAsync(piece, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            throw new ClientWriteException(ex);
        }
    }
}

/// <summary>The worker closed its connection before its answer was complete.</summary>
internal sealed class WorkerClosedException(long missing)
    : IOException(missing >= 0 ? $"The worker closed the connection with {missing} bytes of the body still to come." : "The worker closed the connection in the middle of a chunked body.");

/// <summary>Writing the answer to the client failed: the client is gone.</summary>
internal sealed class ClientWriteException(Exception inner) : Exception("Writing to the client failed.", inner);
