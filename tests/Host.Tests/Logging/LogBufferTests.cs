using Serilog;
using Serilog.Core;
using Serilog.Events;
using PyPE.Host.Logging;

namespace PyPE.Host.Tests.Logging;

public sealed class LogBufferTests
{
    [Fact(Timeout = 10_000)]
    public async Task EventsBeyondTheBuffer_AreDropped_AndCounted()
    {
        using var writerBlocked = new ManualResetEventSlim();
        var sink = new BlockingSink(writerBlocked);
        var buffer = new LogBuffer();
        var configuration = new LoggerConfiguration();
        buffer.WriteTo(configuration.WriteTo, s => s.Sink(sink), capacity: 1);
        await using (var logger = configuration.CreateLogger()) // disposing flushes what the buffer holds
        {
            Assert.Equal(0, buffer.Dropped);

            // The writer holds at most one event while it is stuck, the buffer one more: the rest cannot wait.
            for (var i = 0; i < 50; i++)
            {
                logger.Information("event {Number}", i);
            }

            Assert.InRange(buffer.Dropped, 48, 49);
            writerBlocked.Set();
        }

        Assert.InRange(sink.Written, 1, 2);
        Assert.InRange(buffer.Dropped, 48, 49); // still readable after the logger is gone (a stopping host's last scrape)
    }

    private sealed class BlockingSink(ManualResetEventSlim release) : ILogEventSink
    {
        private int _written;

        public int Written => Volatile.Read(ref _written);

        public void Emit(LogEvent logEvent)
        {
            release.Wait(TimeSpan.FromSeconds(5));
            Interlocked.Increment(ref _written);
        }
    }
}
