using System.Globalization;
using System.Text.RegularExpressions;

namespace PyPE.Host.Slo;

/// <summary>
/// One planned maintenance window in the site's local time: <c>daily 03:00-03:15</c>, <c>Sunday 02:00-03:00</c>
/// (weekly), <c>4th Tuesday 17:00-19:00</c> or <c>last Friday 22:00-23:30</c> (monthly), or
/// <c>2026-12-24 08:00-12:00</c> (once). An end before the start runs past midnight; an end equal to the start
/// means 24 hours.
/// </summary>
internal sealed partial record MaintenanceWindow(MaintenanceWindow.Recurrence Repeats, DayOfWeek Day, int Nth, DateOnly Date, TimeOnly Start, TimeSpan Length)
{
    /// <summary>How a window repeats.</summary>
    internal enum Recurrence
    {
        Daily,
        Weekly,
        Monthly,
        Once,
    }

    public const string Examples = "'4th Tuesday 17:00-19:00', 'last Friday 22:00-23:30', 'Sunday 02:00-03:00', 'daily 03:00-03:15', '2026-12-24 08:00-12:00'";

    [GeneratedRegex(@"^\s*(?:(?<daily>daily)|(?<date>\d{4}-\d{2}-\d{2})|(?:(?<nth>1st|2nd|3rd|4th|5th|first|second|third|fourth|fifth|last)\s+)?(?<day>[A-Za-z]+))\s+(?<start>\d{1,2}:\d{2})\s*-\s*(?<end>\d{1,2}:\d{2})\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, out MaintenanceWindow? window, out string error)
    {
        window = null;
        error = "";
        var match = Pattern().Match(text ?? "");
        if (!match.Success)
        {
            error = $"'{text}' is not a maintenance window; write it like {Examples}";
            return false;
        }

        if (!TimeOnly.TryParseExact(match.Groups["start"].Value, "H:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
            || !TryParseEnd(match.Groups["end"].Value, out var end))
        {
            error = $"'{text}': times are hours:minutes from 00:00 to 24:00";
            return false;
        }

        var length = end - start.ToTimeSpan();
        if (length <= TimeSpan.Zero)
        {
            length += TimeSpan.FromDays(1);
        }

        if (match.Groups["daily"].Success)
        {
            window = new(Recurrence.Daily, default, 0, default, start, length);
            return true;
        }

        if (match.Groups["date"].Success)
        {
            if (!DateOnly.TryParseExact(match.Groups["date"].Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                error = $"'{text}': '{match.Groups["date"].Value}' is not a date (yyyy-MM-dd)";
                return false;
            }

            window = new(Recurrence.Once, default, 0, date, start, length);
            return true;
        }

        if (!Enum.TryParse<DayOfWeek>(match.Groups["day"].Value, ignoreCase: true, out var day) || int.TryParse(match.Groups["day"].Value, CultureInfo.InvariantCulture, out _))
        {
            error = $"'{text}': '{match.Groups["day"].Value}' is not a day of the week (Monday ... Sunday), 'daily' or a date";
            return false;
        }

        if (!match.Groups["nth"].Success)
        {
            window = new(Recurrence.Weekly, day, 0, default, start, length);
            return true;
        }

        var nth = match.Groups["nth"].Value.ToLowerInvariant() switch
        {
            "1st" or "first" => 1,
            "2nd" or "second" => 2,
            "3rd" or "third" => 3,
            "4th" or "fourth" => 4,
            "5th" or "fifth" => 5,
            _ => -1, // last
        };
        window = new(Recurrence.Monthly, day, nth, default, start, length);
        return true;
    }

    /// <summary>Whether <paramref name="instant"/> falls inside an occurrence of this window in <paramref name="zone"/>.</summary>
    public bool Contains(DateTimeOffset instant, TimeZoneInfo zone)
    {
        // A window that runs past midnight started the day before.
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);
        foreach (var day in (ReadOnlySpan<DateOnly>)[today, today.AddDays(-1)])
        {
            if (Occurrence(day, zone) is { } occurrence && instant >= occurrence.Start && instant < occurrence.End)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The window's occurrence that starts on the local <paramref name="day"/>, as instants; null when it does not
    /// start that day. Daylight saving: a start in the skipped hour moves to the end of the gap, a start in the
    /// repeated hour is its first occurrence, and the window lasts its length in real time.
    /// </summary>
    public (DateTimeOffset Start, DateTimeOffset End)? Occurrence(DateOnly day, TimeZoneInfo zone)
    {
        if (!StartsOn(day))
        {
            return null;
        }

        var local = day.ToDateTime(Start);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(1);
        }

        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        var start = new DateTimeOffset(local, offset);
        return (start, start + Length);
    }

    private bool StartsOn(DateOnly day) => Repeats switch
    {
        Recurrence.Daily => true,
        Recurrence.Weekly => day.DayOfWeek == Day,
        Recurrence.Once => day == Date,
        _ => day.DayOfWeek == Day && (Nth > 0 ? (day.Day - 1) / 7 + 1 == Nth : day.AddDays(7).Month != day.Month),
    };

    private static bool TryParseEnd(string text, out TimeSpan end)
    {
        if (text == "24:00")
        {
            end = TimeSpan.FromDays(1);
            return true;
        }

        var ok = TimeOnly.TryParseExact(text, "H:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time);
        end = time.ToTimeSpan();
        return ok;
    }
}
