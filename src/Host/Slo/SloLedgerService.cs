using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace PyPE.Host.Slo;

/// <summary>
/// Writes each minute's SLI counts to the <see cref="SloLedger"/> just after the minute ends, and the
/// unfinished minute on a graceful stop: a clean stop loses nothing, a crash at most the current minute.
/// A ledger that cannot be opened or written (corrupt, locked, read-only) is reported and retried; the host
/// keeps serving, and counts not yet written stay in memory until a write succeeds.
/// </summary>
internal sealed partial class SloLedgerService(
    SloCounterSet counters,
    IOptions<SloOptions> options,
    MaintenanceSchedule maintenance,
    TimeProvider time,
    ILogger<SloLedgerService> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan FlushDelayAfterMinute = TimeSpan.FromSeconds(1);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SloCounts> _written = new(StringComparer.Ordinal);
    private SloLedger? _ledger;
    private ITimer? _timer;
    private long _lastPrunedHour = -1;

    /// <summary>The ledger file in use.</summary>
    public string Path { get; private set; } = "";

    /// <summary>Why the ledger cannot be used right now, or null when it works.</summary>
    public string? Error { get; private set; }

    public static string DefaultPath()
    {
        var state = Environment.GetEnvironmentVariable("STATE_DIRECTORY");
        return !string.IsNullOrEmpty(state)
            ? System.IO.Path.Combine(state.Split(':')[0], "slo.db")
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "pype-exec", "slo.db");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Path = System.IO.Path.GetFullPath(options.Value.Database ?? DefaultPath());
        lock (_lock)
        {
            TryOpen();
        }

        var now = time.GetUtcNow();
        var untilNextMinute = TimeSpan.FromSeconds(60 - (now.ToUnixTimeSeconds() % 60)) + FlushDelayAfterMinute;
        _timer = time.CreateTimer(_ => FlushEndedMinute(), null, untilNextMinute, TimeSpan.FromMinutes(1));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        // The unfinished minute: requests are drained by now (the web server stops first).
        Flush(CurrentMinute());
        return Task.CompletedTask;
    }

    /// <summary>
    /// Counts of the last <paramref name="minutes"/> minutes per app, the unwritten current minute included,
    /// and the busiest minute; <c>Complete</c> is false when the ledger could not be read (in-memory counts only).
    /// </summary>
    public SloWindow Window(long minutes)
    {
        lock (_lock)
        {
            var to = CurrentMinute();
            var from = to - minutes + 1;
            (Dictionary<string, SloCounts> Regular, Dictionary<string, SloCounts> Maintenance)? stored = null;
            (long Static, long Dynamic) peak = (0, 0);
            try
            {
                stored = _ledger?.Totals(from, to + 1);
                peak = _ledger?.PeakMinute(from, to + 1) ?? (0, 0);
            }
            catch (SqliteException ex)
            {
                LogReadFailed(Path, ex.Message);
            }

            var regular = stored?.Regular ?? new Dictionary<string, SloCounts>(StringComparer.Ordinal);
            var duringMaintenance = stored?.Maintenance ?? new Dictionary<string, SloCounts>(StringComparer.Ordinal);
            // Not yet written: the current minute's counts (and any a failed write left behind).
            var pendingGoesTo = maintenance.IsMaintenance(to) ? duringMaintenance : regular;
            var pendingStatic = 0L;
            var pendingDynamic = 0L;
            foreach (var (app, appCounters) in counters.All)
            {
                var pending = appCounters.Read() - _written.GetValueOrDefault(app);
                if (!pending.IsEmpty)
                {
                    pendingGoesTo[app] = pendingGoesTo.GetValueOrDefault(app) + pending;
                    pendingStatic += pending.Static;
                    pendingDynamic += pending.Dynamic;
                }
            }

            if (pendingGoesTo == duringMaintenance)
            {
                (pendingStatic, pendingDynamic) = (0, 0);
            }

            return new SloWindow(minutes, regular, Math.Max(peak.Static, pendingStatic), Math.Max(peak.Dynamic, pendingDynamic), stored is not null)
            {
                MaintenanceApps = duringMaintenance,
                MaintenanceMinutes = maintenance.MinutesWithin(from, to + 1),
            };
        }
    }

    public long CurrentMinute() => time.GetUtcNow().ToUnixTimeSeconds() / 60;

    private void FlushEndedMinute()
    {
        try
        {
            Flush(CurrentMinute() - 1);
        }
        catch (Exception ex)
        {
            // A timer callback must never throw; the counts stay in memory for the next flush.
            LogFlushFailed(ex, Path);
        }
    }

    /// <summary>Writes what was counted since the last successful write as <paramref name="minute"/>.</summary>
    internal void Flush(long minute)
    {
        lock (_lock)
        {
            if (_ledger is null && !TryOpen())
            {
                return;
            }

            var rows = new List<(string App, SloCounts Counts)>();
            var reads = new List<(string App, SloCounts Now)>();
            foreach (var (app, appCounters) in counters.All)
            {
                var now = appCounters.Read();
                var delta = now - _written.GetValueOrDefault(app);
                if (!delta.IsEmpty)
                {
                    rows.Add((app, delta));
                    reads.Add((app, now));
                }
            }

            try
            {
                if (rows.Count > 0)
                {
                    _ledger!.Add(minute, rows, maintenance.IsMaintenance(minute));
                }

                foreach (var (app, now) in reads)
                {
                    _written[app] = now;
                }

                PruneHourly(minute);
                if (Error is not null)
                {
                    Error = null;
                    LogRecovered(Path);
                }
            }
            catch (SqliteException ex)
            {
                Error = $"cannot write the SLO ledger '{Path}': {ex.Message}";
                LogWriteFailed(Path, ex.Message);
            }
        }
    }

    private void PruneHourly(long minute)
    {
        var hour = minute / 60;
        if (hour == _lastPrunedHour)
        {
            return;
        }

        _lastPrunedHour = hour;
        _ledger!.Prune(minute - ((long)options.Value.RetentionDays * 24 * 60));
    }

    private bool TryOpen()
    {
        try
        {
            _ledger = SloLedger.Open(Path);
            Error = null;
            LogOpened(Path);
            return true;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            var error = $"cannot open the SLO ledger '{Path}': {ex.Message}";
            if (error != Error)
            {
                LogOpenFailed(Path, ex.Message);
            }

            Error = error;
            return false;
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _ledger?.Dispose();
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "SLO ledger: {Path}")]
    private partial void LogOpened(string path);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "The SLO ledger {Path} cannot be opened ({Reason}); the host keeps serving and keeps the counts in memory until it can write them. Fix or move the file (PyPE:Slo:Database)")]
    private partial void LogOpenFailed(string path, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Writing the SLO ledger {Path} failed ({Reason}); the counts stay in memory and are written with the next minute")]
    private partial void LogWriteFailed(string path, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "The SLO ledger {Path} is writable again")]
    private partial void LogRecovered(string path);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Reading the SLO ledger {Path} failed: {Reason}")]
    private partial void LogReadFailed(string path, string reason);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Error, Message = "Flushing the SLO ledger {Path} failed")]
    private partial void LogFlushFailed(Exception exception, string path);
}
