using System.Diagnostics;

namespace PyPE.Supervisor.Workers;

/// <summary>
/// Wraps one pooled connection to a worker and stamps the worker each time bytes arrive from it. When a
/// response breaks off half-way, that stamp tells a worker that went silent (hung: replace it) from a client
/// that left (the worker was still sending). One wrapper per connection, nothing per request.
/// </summary>
internal sealed class ActivityRecordingStream(Stream inner, Worker worker) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Stamp(read);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Stamp(read);
        return read;
    }

    /// <summary>
    /// Only bytes count. A read that returns 0 is no sign of life: the HTTP client's zero-byte reads (waiting for
    /// data without a buffer) also complete with 0 when a timeout disposes the connection, and a stamp then would
    /// make a silent worker look as if it had just sent something.
    /// </summary>
    private void Stamp(int read)
    {
        if (read > 0)
        {
            worker.LastReceivedTimestamp = Stopwatch.GetTimestamp();
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
