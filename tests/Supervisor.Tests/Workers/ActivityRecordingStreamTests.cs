using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Tests.Workers;

public sealed class ActivityRecordingStreamTests
{
    private static Worker NewWorker() => new("w-1", "shop", "/tmp/x/w-1.sock", 1, 0, TimeProvider.System);

    [Fact(Timeout = 10_000)]
    public async Task BytesFromTheWorker_StampIt()
    {
        var worker = NewWorker();
        await using var stream = new ActivityRecordingStream(new MemoryStream([1, 2, 3]), worker);

        var read = await stream.ReadAsync(new byte[8]);

        Assert.Equal(3, read);
        Assert.NotEqual(0, worker.LastReceivedTimestamp);
    }

    [Fact(Timeout = 10_000)]
    public async Task ReadsThatReturnNothing_DoNotStampIt()
    {
        // A zero-byte read (the HTTP client's wait for data) and end of stream both return 0: no sign of life,
        // and a zero-byte read also completes that way when a timeout disposes the connection.
        var worker = NewWorker();
        await using var stream = new ActivityRecordingStream(new MemoryStream([1, 2, 3]), worker);

        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal(0, worker.LastReceivedTimestamp);

        Assert.Equal(3, await stream.ReadAsync(new byte[8]));
        var stamped = worker.LastReceivedTimestamp;
        Assert.Equal(0, await stream.ReadAsync(new byte[8]));
        Assert.Equal(0, stream.Read(new byte[8], 0, 8));
        Assert.Equal(stamped, worker.LastReceivedTimestamp);
    }
}
