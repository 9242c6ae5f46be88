namespace PyPE.Host.Slo;

/// <summary>
/// The planned maintenance windows (<c>PyPE:Slo:Maintenance</c>) in the site's time zone
/// (<c>PyPE:Slo:TimeZone</c>). Minutes inside one are recorded in the ledger as maintenance and reported
/// apart from the objectives, never dropped.
/// </summary>
internal sealed class MaintenanceSchedule(IReadOnlyList<MaintenanceWindow> windows, TimeZoneInfo timeZone)
{
    public static MaintenanceSchedule None { get; } = new([], TimeZoneInfo.Utc);

    public IReadOnlyList<MaintenanceWindow> Windows => windows;

    public TimeZoneInfo TimeZone => timeZone;

    /// <summary>Whether the minute starting at <paramref name="minute"/> (minutes since the Unix epoch, UTC) is planned maintenance.</summary>
    public bool IsMaintenance(long minute)
    {
        if (windows.Count == 0)
        {
            return false;
        }

        var local = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(minute * 60), timeZone).DateTime;
        foreach (var window in windows)
        {
            if (window.Contains(local))
            {
                return true;
            }
        }

        return false;
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
