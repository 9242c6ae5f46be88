using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Features;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Workers;

namespace PyPE.Host.Dispatch.Hop;

/// <summary>
/// Forwards one request to a worker over a pooled keep-alive connection to its Unix socket and copies the
/// answer to the client: HTTP/1.1 written and read directly on the connection's buffers, with no per-request
/// request/response message objects. PyPE.Exec owns both ends of this hop, which is what makes a purpose-built
/// client worth it: in the measured A/B (BENCHMARKS.md) YARP and the .NET HTTP client over the same socket cost
/// the host more CPU per request. Failures are told apart the way the dispatcher needs them (<see cref="HopError"/>).
/// </summary>
internal static class WorkerForwarder
{
    /// <summary>Bodies up to this size go out in the same send as the head.</summary>
    private const int CoalescedBodyBytes = 16 * 1024;

    /// <param name="context">The client's request, its body already buffered; the worker's answer is written to its response.</param>
    /// <param name="worker">The worker whose slot the caller holds.</param>
    /// <param name="ticket">The slot's ticket when it hands the request ahead to a busy worker: the request carries
    /// it, and the request may be taken back (the hop then ends with an error and <see cref="PrefetchTicket.IsTakenBack"/>
    /// set). The caller settles it after any failure.</param>
    /// <param name="activityTimeout">How long the worker may stay silent before it is given up on.</param>
    public static async Task<HopResult> ForwardAsync(HttpContext context, Worker worker, PrefetchTicket? ticket, TimeSpan activityTimeout)
    {
        if (ticket is not null && !ticket.TryIssue())
        {
            if (ticket.IsTakenBack)
            {
                // Its queue deadline passed before it could go out: the caller answers it as the queue would.
                return new(HopError.NotSent);
            }

            ticket = null;
        }

        var pool = worker.Connections;
        var aborted = context.RequestAborted;
        WorkerConnection? connection = null;
        try
        {
            try
            {
                connection = pool is null ? throw new ObjectDisposedException(nameof(WorkerConnectionPool)) : await pool.RentAsync(aborted);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return aborted.IsCancellationRequested ? new(HopError.ClientGone) : new(HopError.NotSent, ex);
            }

            var (result, reusable) = await ExchangeAsync(context, connection, ticket, activityTimeout);
            if (result.Error == HopError.NotSent && reusable)
            {
                // Taken back as it was about to go out: nothing was sent, the connection is as good as before.
                pool.Return(connection);
                connection = null;
                return result;
            }

            if (result.Error == HopError.NotSent)
            {
                // The pooled connection was closed as the request went out (the worker is stopping): the worker did
                // not get the request. Once more on a new connection, which also tells whether it is still there.
                connection.Dispose();
                connection = null;
                try
                {
                    connection = await pool.ConnectAsync(aborted);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
                {
                    return aborted.IsCancellationRequested ? new(HopError.ClientGone) : new(HopError.NotSent, ex);
                }

                (result, reusable) = await ExchangeAsync(context, connection, ticket, activityTimeout);
            }

            if (result.Error == HopError.None && reusable)
            {
                pool.Return(connection);
                connection = null;
            }
            else if (result.Error != HopError.None && !context.Response.HasStarted)
            {
                // Nothing reached the client yet: clear what a broken answer set, so the host's own page stands alone.
                context.Response.Headers.Clear();
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Features.GetRequiredFeature<IHttpResponseFeature>().ReasonPhrase = null;
            }

            return result;
        }
        finally
        {
            // Anything but a clean, complete exchange (or a failure the hop does not tell apart: a bug) leaves the
            // connection in an unknown state.
            connection?.Dispose();
        }
    }

    /// <summary>
    /// Sends the request and copies the answer. <see cref="HopError.NotSent"/> here means a reused connection
    /// failed on the send, before the worker could have read the request — or, reusable, that the request was taken
    /// back before it went out.
    /// </summary>
    private static async ValueTask<(HopResult Result, bool Reusable)> ExchangeAsync(HttpContext context, WorkerConnection connection, PrefetchTicket? ticket, TimeSpan activityTimeout)
    {
        var aborted = context.RequestAborted;
        var body = RequestHead.Write(context, connection.Outgoing, ticket?.HeaderValue);
        var cancellation = connection.Cancellation;
        connection.ActivityTimeout = activityTimeout;
        cancellation.CancelAfter(activityTimeout);
        // Unregistered (and so finished) before the connection can go back to the pool for another request.
        using var onClientGone = aborted.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), cancellation);
        var sent = false;
        try
        {
            ticket?.Attach(cancellation);
            if (ticket is { IsTakenBack: true })
            {
                // A worker with a free thread took it back (or its queue deadline passed) before it went out.
                return (new(HopError.NotSent), true);
            }

            await SendAsync(connection, body, cancellation.Token);
            sent = true;
            var head = await ResponseHead.ReadAsync(connection, context.Request.Method, context.Response);
            var clean = await ResponseBody.CopyAsync(context, connection, head);
            return (HopResult.Done, clean && head.KeepAlive);
        }
        catch (ClientWriteException ex)
        {
            return (new(HopError.ClientGone, ex.InnerException), false);
        }
        catch (OperationCanceledException ex)
        {
            return (new(aborted.IsCancellationRequested ? HopError.ClientGone : HopError.WorkerSilent, ex), false);
        }
        catch (InvalidDataException ex)
        {
            return (new(HopError.InvalidResponse, ex), false);
        }
        catch (InvalidOperationException ex) when (ex is not ObjectDisposedException && !context.Response.HasStarted)
        {
            // Kestrel refused a header of the worker's answer (a character it may not send).
            return (new(HopError.InvalidResponse, ex), false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            if (aborted.IsCancellationRequested)
            {
                return (new(HopError.ClientGone, ex), false);
            }

            if (!sent)
            {
                return (new(connection.Reused ? HopError.NotSent : HopError.NoResponse, ex), false);
            }

            return (new(context.Response.HasStarted || ex is WorkerClosedException ? HopError.BrokenOff : HopError.NoResponse, ex), false);
        }
    }

    private static async ValueTask SendAsync(WorkerConnection connection, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var outgoing = connection.Outgoing;
        if (body.Length <= CoalescedBodyBytes)
        {
            body.Span.CopyTo(outgoing.GetSpan(body.Length));
            outgoing.Advance(body.Length);
            body = default;
        }

        await connection.SendAsync(outgoing.WrittenMemory, cancellationToken);
        if (!body.IsEmpty)
        {
            await connection.SendAsync(body, cancellationToken);
        }
    }
}
