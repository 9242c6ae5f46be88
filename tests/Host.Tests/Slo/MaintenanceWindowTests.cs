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
        Assert.Equal(inside, window!.Contains(DateTime.ParseExact(local, "yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)));
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
