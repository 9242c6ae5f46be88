using Serilog;
using Serilog.Configuration;
using Serilog.Sinks.Async;

namespace PyPE.Host.Logging;

/// <summary>
/// The buffer between the host's threads and its console writer (Serilog.Sinks.Async): events wait here for the
/// background writer, and when it is full new events are dropped rather than waited for. This counts what was
/// dropped, so a log that lost events says so (<c>pype_log_events_dropped_total</c> on the admin /metrics) instead
/// of having silent gaps.
/// </summary>
internal sealed class ConsoleLogBuffer : IAsyncLogEventSinkMonitor
{
    /// <summary>Events held for the console writer; beyond this, new events are dropped.</summary>
    public const int Capacity = 10_000;

    private IAsyncLogEventSinkInspector? _inspector;

    /// <summary>Events dropped because the buffer was full, since the host started.</summary>
    public long Dropped => Volatile.Read(ref _inspector)?.DroppedMessagesCount ?? 0;

    /// <summary>Writes to <paramref name="sink"/> through this buffer, on a background thread.</summary>
    public void WriteTo(LoggerSinkConfiguration configuration, Action<LoggerSinkConfiguration> sink, int capacity = Capacity) =>
        configuration.Async(sink, bufferSize: capacity, blockWhenFull: false, monitor: this);

    void IAsyncLogEventSinkMonitor.StartMonitoring(IAsyncLogEventSinkInspector inspector) => Volatile.Write(ref _inspector, inspector);

    // The count stays readable after the logger is disposed (a stopping host's last scrape).
    void IAsyncLogEventSinkMonitor.StopMonitoring(IAsyncLogEventSinkInspector inspector)
    {
    }
}
