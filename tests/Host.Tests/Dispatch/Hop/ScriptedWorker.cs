using System.Net.Sockets;
using System.Text;
using PyPE.Supervisor.Workers;

namespace PyPE.Host.Tests.Dispatch.Hop;

/// <summary>
/// A stand-in for a worker shim on a real Unix socket: each accepted connection reads one request head at a
/// time and answers it with the test's script, so the hop can be given answers a well-behaved shim never sends.
/// </summary>
internal sealed class ScriptedWorker : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly string _directory = Directory.CreateTempSubdirectory("pype-hop-").FullName;
    private readonly Func<Socket, string, Task> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<string> _requests = [];
    private int _connections;

    /// <param name="answer">Given the connection and the request head received on it, writes the answer.</param>
    /// <param name="prefetch">The worker's <c>pool.prefetch</c>: above 0, it gets a ticket table beside its socket.</param>
    public ScriptedWorker(Func<Socket, string, Task> answer, int prefetch = 0)
    {
        _answer = answer;
        var path = Path.Combine(_directory, "w.sock");
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(16);
        Worker = new Worker("hop-1", "hop", path, capacity: 1, recycleAfterRequests: 0, TimeProvider.System, prefetch);
        Worker.Connections = new WorkerConnectionPool(Worker);
        if (prefetch > 0)
        {
            Worker.Tickets = TicketTable.TryCreate(path + ".tickets");
        }

        _accepting = AcceptAsync();
    }

    public Worker Worker { get; }

    /// <summary>Connections the worker accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The request heads received, in order.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task SendAsync(Socket socket, string text) => await socket.SendAsync(Encoding.Latin1.GetBytes(text));

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        using var _ = connection;
        var received = new StringBuilder();
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                var text = received.ToString();
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    var head = text[..(end + 4)];
                    var length = HeadContentLength(head);
                    if (text.Length - head.Length >= length)
                    {
                        lock (_requests)
                        {
                            _requests.Add(text[..(head.Length + length)]);
                        }

                        received.Remove(0, head.Length + length);
                        await _answer(connection, head);
                        continue;
                    }
                }

                var read = await connection.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                received.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (SocketException)
        {
        }
    }

    private static int HeadContentLength(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line["Content-Length:".Length..].Trim());
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        Worker.Connections?.Dispose();
        Worker.Tickets?.Dispose();
        await _accepting;
        _stop.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
