namespace PyPE.Host.Slo;

/// <summary>The SLO ledger (<c>PyPE:Slo</c>): per-minute aggregates kept across restarts.</summary>
public sealed class SloOptions
{
    public const string SectionName = "PyPE:Slo";

    /// <summary>
    /// <c>Database</c>: the SQLite file of the ledger. Default: <c>$STATE_DIRECTORY/slo.db</c> under systemd, else
    /// <c>~/.local/state/pype-exec/slo.db</c>.
    /// </summary>
    public string? Database { get; set; }

    /// <summary><c>RetentionDays</c>: minutes older than this are deleted. Default 35 (30-day figures plus margin).</summary>
    public int RetentionDays { get; set; } = 35;

    /// <summary>
    /// <c>Maintenance</c>: planned maintenance windows, e.g. <c>4th Tuesday 17:00-19:00</c> (see
    /// <see cref="MaintenanceWindow"/>). Their minutes are recorded and reported apart from the objectives.
    /// </summary>
    public List<string> Maintenance { get; set; } = [];

    /// <summary><c>TimeZone</c>: the time zone of the maintenance windows (IANA id). Default: the machine's.</summary>
    public string? TimeZone { get; set; }
}
