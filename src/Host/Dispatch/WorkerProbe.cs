using System.Net.Sockets;
using PyPE.Host.Dispatch.Hop;
using PyPE.Supervisor.Workers;

namespace PyPE.Host.Dispatch;

/// <summary>
/// Asks a worker whether it is free: the shim answers <c>X-PyPE-Probe</c> itself, without the app, in turn
/// with other requests — so on a single-threaded worker the answer comes once the request in hand is done.
/// </summary>
internal static class WorkerProbe
{
    public const string Header = "X-PyPE-Probe";

    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: worker\r\nX-PyPE-Probe: 1\r\n\r\n"u8.ToArray();

    /// <returns>True when the worker answered within <paramref name="timeout"/>; false when it is still busy.</returns>
    /// <exception cref="IOException">The worker closed the connection.</exception>
    /// <exception cref="InvalidDataException">The worker answered something unreadable.</exception>
    /// <exception cref="SocketException">The worker's socket is gone.</exception>
    public static async Task<bool> WaitUntilFreeAsync(Worker worker, TimeSpan timeout)
    {
        var pool = worker.Connections ?? throw new ObjectDisposedException(nameof(WorkerConnectionPool));
        var connection = await pool.ConnectAsync(CancellationToken.None);
        var reusable = false;
        try
        {
            connection.Cancellation.CancelAfter(timeout);
            await connection.SendAsync(Request, connection.Cancellation.Token);
            // A fresh connection has no activity timeout: the whole exchange runs against the deadline above.
            var head = await ResponseHead.ReadAsync(connection, HttpMethods.Get, response: null);
            if (head.Framing == BodyFraming.ContentLength)
            {
                for (var left = head.ContentLength; left > 0;)
                {
                    if (connection.Buffered.IsEmpty && await connection.ReceiveAsync() == 0)
                    {
                        throw new IOException("The worker closed the connection in the middle of a probe's answer.");
                    }

                    var take = (int)Math.Min(left, connection.Buffered.Length);
                    connection.Consume(take);
                    left -= take;
                }

                reusable = head.KeepAlive && connection.Buffered.IsEmpty;
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            if (reusable)
            {
                pool.Return(connection);
            }
            else
            {
                connection.Dispose();
            }
        }
    }
}
