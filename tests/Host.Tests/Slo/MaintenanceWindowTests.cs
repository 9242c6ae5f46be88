using PyPE.Host.Slo;

namespace PyPE.Host.Tests.Slo;

public sealed class MaintenanceWindowTests
{
    [Theory]
    // November 2026: Tuesdays are the 3rd, 10th, 17th and 24th (the fourth); the last Friday is the 27th.
    [InlineData("4th Tuesday 17:00-19:00", "2026-11-24 17:00", true)]
    [InlineData("4th Tuesday 17:00-19:00", "2026-11-24 18:59", true)]
    [InlineData("4th Tuesday 17:00-19:00", "2026-11-24 19:00", false)]
    [InlineData("4th Tuesday 17:00-19:00", "2026-11-24 16:59", false)]
    [InlineData("4th Tuesday 17:00-19:00", "2026-11-17 17:30", false)]
    [InlineData("fourth tuesday 17:00 - 19:00", "2026-11-24 17:30", true)]
    [InlineData("last Friday 22:00-23:30", "2026-11-27 22:15", true)]
    [InlineData("last Friday 22:00-23:30", "2026-11-20 22:15", false)]
    [InlineData("Sunday 23:00-01:00", "2026-11-30 00:30", true)]
    [InlineData("Sunday 23:00-01:00", "2026-11-29 23:30", true)]
    [InlineData("Sunday 23:00-01:00", "2026-11-30 01:00", false)]
    [InlineData("daily 03:00-03:15", "2026-11-25 03:14", true)]
    [InlineData("daily 00:00-24:00", "2026-11-25 12:00", true)]
    [InlineData("2026-12-24 08:00-12:00", "2026-12-24 08:00", true)]
    [InlineData("2026-12-24 08:00-12:00", "2025-12-24 08:00", false)]
    public void Contains_LocalTimesInsideTheWindow(string text, string local, bool inside)
    {
        Assert.True(MaintenanceWindow.TryParse(text, out var window, out var error), error);
        var instant = new DateTimeOffset(DateTime.ParseExact(local, "yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), TimeSpan.Zero);
        Assert.Equal(inside, window!.Contains(instant, TimeZoneInfo.Utc));
    }

    [Theory]
    [InlineData("4th Tusday 17:00-19:00", "not a day of the week")]
    [InlineData("every day", "is not a maintenance window")]
    [InlineData("daily 25:00-26:00", "hours:minutes")]
    [InlineData("2026-02-30 08:00-09:00", "is not a date")]
    [InlineData("", "is not a maintenance window")]
    public void TryParse_ExplainsWhatIsWrong(string text, string expected)
    {
        Assert.False(MaintenanceWindow.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    // Europe/Zurich: 2026-03-29 02:00 CET jumps to 03:00 CEST; 2026-10-25 03:00 CEST falls back to 02:00 CET.
    [InlineData("Sunday 02:00-03:00", "2026-03-29", 60)] // starts at the end of the gap (03:00 CEST), lasts an hour
    [InlineData("Sunday 02:00-03:00", "2026-10-25", 60)] // the first 02:00 (CEST) only, an hour of real time
    [InlineData("last Sunday 02:30-02:45", "2026-10-25", 15)] // not twice
    [InlineData("daily 01:00-04:00", "2026-03-29", 180)]
    public void AcrossDaylightSaving_AWindowLastsItsLength(string text, string date, long minutes)
    {
        var errors = new List<string>();
        var schedule = MaintenanceSchedule.From(new SloOptions { Maintenance = [text], TimeZone = "Europe/Zurich" }, errors);
        Assert.Empty(errors);
        var day = new DateTimeOffset(DateTime.ParseExact(date, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), TimeSpan.Zero);
        var from = (day - TimeSpan.FromHours(6)).ToUnixTimeSeconds() / 60;
        var to = (day + TimeSpan.FromHours(18)).ToUnixTimeSeconds() / 60;

        var counted = 0L;
        for (var minute = from; minute < to; minute++)
        {
            counted += schedule.IsMaintenance(minute) ? 1 : 0;
        }

        Assert.Equal(minutes, counted);
        Assert.Equal(minutes, schedule.MinutesWithin(from, to));
    }

    [Fact]
    public void MinutesWithin_CountsOverlapsOnce_AndClipsToTheSpan()
    {
        var schedule = MaintenanceSchedule.From(new SloOptions { Maintenance = ["daily 10:00-12:00", "daily 11:00-13:00", "2026-11-24 23:00-01:00"], TimeZone = "UTC" }, []);
        var day = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() / 60;

        Assert.Equal(180 + 120, schedule.MinutesWithin(day, day + 24 * 60 + 120));
        Assert.Equal(30, schedule.MinutesWithin(day + 10 * 60 + 30, day + 11 * 60));
        Assert.Equal(30 * 180 + 120, schedule.MinutesWithin(day - 29 * 24 * 60, day + 24 * 60 + 120));
    }

    [Fact]
    public void Schedule_UsesItsTimeZone_AndNamesBadKeys()
    {
        var errors = new List<string>();
        var schedule = MaintenanceSchedule.From(new SloOptions { Maintenance = ["daily 17:00-19:00", "nonsense"], TimeZone = "Europe/Zurich" }, errors);

        Assert.Single(errors);
        Assert.StartsWith("PyPE:Slo:Maintenance:1:", errors[0], StringComparison.Ordinal);
        // 16:30 UTC is 17:30 in Zurich (CET, UTC+1 in November).
        Assert.True(schedule.IsMaintenance(new DateTimeOffset(2026, 11, 24, 16, 30, 0, TimeSpan.Zero).ToUnixTimeSeconds() / 60));
        Assert.False(schedule.IsMaintenance(new DateTimeOffset(2026, 11, 24, 18, 30, 0, TimeSpan.Zero).ToUnixTimeSeconds() / 60));

        MaintenanceSchedule.From(new SloOptions { TimeZone = "Mars/Olympus" }, errors);
        Assert.Contains(errors, e => e.StartsWith("PyPE:Slo:TimeZone:", StringComparison.Ordinal));
    }
}
