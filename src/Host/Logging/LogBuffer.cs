using System.Collections.Concurrent;
using Serilog;
using Serilog.Configuration;
using Serilog.Sinks.Async;

namespace PyPE.Host.Logging;

/// <summary>
/// The buffers between the host's threads and its sinks (Serilog.Sinks.Async, one per sink): the console by
/// default, each of the operator's sinks when <c>Serilog:WriteTo</c> names them (<see cref="BufferedSinksView"/>).
/// Events wait there for a sink's background writer, and when its buffer is full new events are dropped rather than
/// waited for. This counts what was dropped, so a log that lost events says so (<c>pype_log_events_dropped_total</c>
/// on the admin /metrics) instead of having silent gaps.
/// </summary>
internal sealed class LogBuffer : IAsyncLogEventSinkMonitor
{
    /// <summary>Events held for a sink's writer; beyond this, new events for it are dropped.</summary>
    public const int Capacity = 10_000;

    // The buffer of the host whose Serilog section is being read on this thread: the configuration reader can reach
    // an object only through a static member (BufferedSinksView names Configuring), and tests run several hosts.
    [ThreadStatic]
    private static LogBuffer? t_configuring;

    // One per buffered sink: the console's, or one for each of the operator's sinks.
    private readonly ConcurrentQueue<IAsyncLogEventSinkInspector> _inspectors = new();

    /// <summary>Events dropped because a sink's buffer was full, since the host started (all sinks together).</summary>
    public long Dropped => _inspectors.Sum(inspector => inspector.DroppedMessagesCount);

    /// <summary>The buffer being configured on this thread (see <see cref="BeginConfiguring"/>), else null.</summary>
    public static IAsyncLogEventSinkMonitor? Configuring => t_configuring;

    /// <summary>Writes to <paramref name="sink"/> through this buffer, on a background thread.</summary>
    public void WriteTo(LoggerSinkConfiguration configuration, Action<LoggerSinkConfiguration> sink, int capacity = Capacity) =>
        configuration.Async(sink, bufferSize: capacity, blockWhenFull: false, monitor: this);

    /// <summary>Makes this buffer <see cref="Configuring"/> on this thread until the result is disposed.</summary>
    public IDisposable BeginConfiguring()
    {
        t_configuring = this;
        return new EndConfiguring();
    }

    void IAsyncLogEventSinkMonitor.StartMonitoring(IAsyncLogEventSinkInspector inspector) => _inspectors.Enqueue(inspector);

    // The count stays readable after the logger is disposed (a stopping host's last scrape).
    void IAsyncLogEventSinkMonitor.StopMonitoring(IAsyncLogEventSinkInspector inspector)
    {
    }

    private sealed class EndConfiguring : IDisposable
    {
        public void Dispose() => t_configuring = null;
    }
}
