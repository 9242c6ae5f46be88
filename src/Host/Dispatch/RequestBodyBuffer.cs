using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace PyPE.Host.Dispatch;

/// <summary>
/// Reads a request body completely before a worker slot is taken, so a slow client never holds a worker
/// (the job nginx's request buffering does in front of gunicorn). Bodies above the app's cap are refused.
/// </summary>
internal static class RequestBodyBuffer
{
    public enum Outcome
    {
        NoBody,
        Buffered,
        TooLarge,
        Malformed,
        ClientGone,
    }

    /// <summary><see cref="HttpContext.Items"/> key of the status Kestrel chose for an unreadable body (400, 408, ...).</summary>
    public const string FailureStatusKey = "pype.body-failure-status";

    /// <summary>Largest buffer reserved up front from a declared Content-Length; beyond it the buffer grows as data arrives.</summary>
    private const int InitialCapacityLimit = 64 * 1024;

    public static async ValueTask<Outcome> BufferAsync(HttpContext context, long maxBytes)
    {
        var request = context.Request;
        var detection = context.Features.Get<IHttpRequestBodyDetectionFeature>();
        if (detection is { CanHaveBody: false })
        {
            return Outcome.NoBody;
        }

        var declared = request.ContentLength;
        if (declared > maxBytes)
        {
            return Outcome.TooLarge;
        }

        // A declared length is a claim, not data: reserving all of it up front would let idle clients pin memory.
        var buffer = new MemoryStream(declared is > 0 ? (int)Math.Min(declared.Value, InitialCapacityLimit) : 4096);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await request.Body.ReadAsync(chunk, context.RequestAborted);
                }
                catch (BadHttpRequestException bad)
                {
                    // Malformed chunked framing, a body shorter than declared, or a too-slow upload.
                    context.Items[FailureStatusKey] = bad.StatusCode;
                    buffer.Dispose();
                    return Outcome.Malformed;
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException)
                {
                    buffer.Dispose();
                    return Outcome.ClientGone;
                }

                if (read == 0)
                {
                    break;
                }

                if (buffer.Length + read > maxBytes)
                {
                    buffer.Dispose();
                    return Outcome.TooLarge;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        buffer.Position = 0;
        request.Body = buffer;
        // The worker gets a plain Content-Length body whatever the client sent (chunked included).
        request.Headers.Remove("Transfer-Encoding");
        request.ContentLength = buffer.Length;
        context.Response.RegisterForDispose(buffer);
        return Outcome.Buffered;
    }
}
