namespace PyPE.Host.Slo;

/// <summary>
/// The planned maintenance windows (<c>PyPE:Slo:Maintenance</c>) in the site's time zone
/// (<c>PyPE:Slo:TimeZone</c>). Minutes inside one are recorded in the ledger as maintenance and reported
/// apart from the objectives, never dropped.
/// </summary>
internal sealed class MaintenanceSchedule(IReadOnlyList<MaintenanceWindow> windows, TimeZoneInfo timeZone)
{
    public static MaintenanceSchedule None { get; } = new([], TimeZoneInfo.Utc);

    /// <summary>Whether the minute starting at <paramref name="minute"/> (minutes since the Unix epoch, UTC) is planned maintenance.</summary>
    public bool IsMaintenance(long minute)
    {
        if (windows.Count == 0)
        {
            return false;
        }

        var instant = DateTimeOffset.FromUnixTimeSeconds(minute * 60);
        foreach (var window in windows)
        {
            if (window.Contains(instant, timeZone))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// How many minutes of [<paramref name="fromMinute"/>, <paramref name="toMinute"/>) the windows cover
    /// (overlapping windows count once): per day and window, not per minute, so a 30-day span stays cheap.
    /// </summary>
    public long MinutesWithin(long fromMinute, long toMinute)
    {
        if (windows.Count == 0 || toMinute <= fromMinute)
        {
            return 0;
        }

        var from = DateTimeOffset.FromUnixTimeSeconds(fromMinute * 60);
        var to = DateTimeOffset.FromUnixTimeSeconds(toMinute * 60);
        var intervals = new List<(long Start, long End)>();
        var firstDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(from, timeZone).DateTime).AddDays(-1);
        var lastDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(to, timeZone).DateTime);
        for (var day = firstDay; day <= lastDay; day = day.AddDays(1))
        {
            foreach (var window in windows)
            {
                if (window.Occurrence(day, timeZone) is { } occurrence)
                {
                    // Minutes whose start lies inside the occurrence, clipped to the span.
                    var start = Math.Max(fromMinute, CeilingMinute(occurrence.Start));
                    var end = Math.Min(toMinute, CeilingMinute(occurrence.End));
                    if (end > start)
                    {
                        intervals.Add((start, end));
                    }
                }
            }
        }

        long total = 0, coveredUntil = long.MinValue;
        foreach (var (start, end) in intervals.OrderBy(i => i.Start))
        {
            var clippedStart = Math.Max(start, coveredUntil);
            if (end > clippedStart)
            {
                total += end - clippedStart;
            }

            coveredUntil = Math.Max(coveredUntil, end);
        }

        return total;
    }

    private static long CeilingMinute(DateTimeOffset instant)
    {
        var seconds = instant.ToUnixTimeSeconds();
        return seconds / 60 + (seconds % 60 > 0 ? 1 : 0);
    }

    /// <summary>Reads the options; every problem goes to <paramref name="errors"/> with its key.</summary>
    public static MaintenanceSchedule From(SloOptions options, List<string> errors)
    {
        var timeZone = TimeZoneInfo.Local;
        if (!string.IsNullOrWhiteSpace(options.TimeZone) && !TimeZoneInfo.TryFindSystemTimeZoneById(options.TimeZone.Trim(), out timeZone))
        {
            errors.Add($"PyPE:Slo:TimeZone: '{options.TimeZone}' is not a time zone of this machine (an IANA name such as 'Europe/Zurich', or 'UTC')");
            timeZone = TimeZoneInfo.Local;
        }

        var windows = new List<MaintenanceWindow>();
        for (var i = 0; i < options.Maintenance.Count; i++)
        {
            if (MaintenanceWindow.TryParse(options.Maintenance[i], out var window, out var error))
            {
                windows.Add(window!);
            }
            else
            {
                errors.Add($"PyPE:Slo:Maintenance:{i}: {error}");
            }
        }

        return new MaintenanceSchedule(windows, timeZone!);
    }
}
