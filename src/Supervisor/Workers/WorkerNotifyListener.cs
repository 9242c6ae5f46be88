using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace PyPE.Supervisor.Workers;

/// <summary>
/// The host's datagram socket on which workers report READY (after the app imported) or FAILED (with the
/// traceback). One socket serves every worker; messages are matched to the starting worker by its id.
/// </summary>
public sealed partial class WorkerNotifyListener : IDisposable
{
    private readonly Socket _socket;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<NotifyMessage>> _waiting = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private readonly Task _receiveLoop;
    private int _disposed;

    public WorkerNotifyListener(string socketPath, ILogger<WorkerNotifyListener> logger)
    {
        _logger = logger;
        SocketPath = socketPath;
        File.Delete(socketPath);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    public string SocketPath { get; }

    /// <summary>Returns a task that completes with the first message of <paramref name="workerId"/>.</summary>
    public Task<NotifyMessage> Expect(string workerId)
    {
        var source = new TaskCompletionSource<NotifyMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[workerId] = source;
        return source.Task;
    }

    public void Forget(string workerId) => _waiting.TryRemove(workerId, out _);

    private async Task ReceiveLoopAsync()
    {
        // Tracebacks can be long; the shim truncates them to 32 KiB of text.
        var buffer = new byte[256 * 1024];
        while (!_stopping.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                LogReceiveFailed(ex.SocketErrorCode);
                continue;
            }

            var message = NotifyMessage.Parse(Encoding.UTF8.GetString(buffer, 0, received));
            if (message is null)
            {
                LogUnreadable(received);
            }
            else if (_waiting.TryRemove(message.WorkerId, out var source))
            {
                source.TrySetResult(message);
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        _socket.Dispose();
        try
        {
            _receiveLoop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }

        _stopping.Dispose();
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
        }
    }

    [LoggerMessage(EventId = LogEvents.NotifyReceiveFailed, Level = LogLevel.Warning, Message = "Receiving a worker notification failed: {SocketError}")]
    private partial void LogReceiveFailed(SocketError socketError);

    [LoggerMessage(EventId = LogEvents.NotifyUnreadable, Level = LogLevel.Warning, Message = "Ignored an unreadable worker notification of {Bytes} bytes")]
    private partial void LogUnreadable(int bytes);
}
