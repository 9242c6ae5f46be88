using Microsoft.Data.Sqlite;

namespace PyPE.Host.Slo;

/// <summary>
/// The SQLite store of per-minute SLI counts, one row per app and minute (minutes since the Unix epoch, UTC).
/// Writing a minute again adds to it, so a restart within a minute, or a retry after a failed write, loses
/// and doubles nothing.
/// </summary>
internal sealed class SloLedger : IDisposable
{
    /// <summary>
    /// The schema this host writes (<c>PRAGMA user_version</c>). 1: requests, errors, latency, static.
    /// 2: synthetic probes and the maintenance flag.
    /// </summary>
    public const int SchemaVersion = 2;

    /// <summary>How long a statement waits for a file another process holds before it fails as locked.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(1);

    private const string Columns = "requests, platform_errors, app_errors, dynamic, dynamic_fast, static, probes, probes_ok";

    private readonly SqliteConnection _connection;

    private SloLedger(SqliteConnection connection) => _connection = connection;

    public string Path { get; private init; } = "";

    /// <summary>
    /// Opens (creating or upgrading if needed) the ledger; throws <see cref="SqliteException"/> for a corrupt or
    /// locked file and <see cref="InvalidDataException"/> for one written by a newer host.
    /// </summary>
    public static SloLedger Open(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            // Microsoft.Data.Sqlite retries a busy (locked) file for this long per statement, 30 s by default:
            // a locked ledger would hold up start-up, each minute's flush and every /slo for that long.
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                """);
            Migrate(connection, path);
            // A corrupt file can open; reading it is what fails.
            Execute(connection, "SELECT count(*) FROM slo_minutes WHERE minute < 0;");
            return new SloLedger(connection) { Path = path };
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Adds the counts of <paramref name="minute"/> for each app, in one transaction; <paramref name="maintenance"/>
    /// marks the minute as planned maintenance (reported apart from the objectives).
    /// </summary>
    public void Add(long minute, IReadOnlyCollection<(string App, SloCounts Counts)> rows, bool maintenance = false)
    {
        using var transaction = _connection.BeginTransaction();
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO slo_minutes (app, minute, requests, platform_errors, app_errors, dynamic, dynamic_fast, static, probes, probes_ok, maintenance)
            VALUES ($app, $minute, $requests, $platform_errors, $app_errors, $dynamic, $dynamic_fast, $static, $probes, $probes_ok, $maintenance)
            ON CONFLICT (app, minute) DO UPDATE SET
                requests = requests + excluded.requests,
                platform_errors = platform_errors + excluded.platform_errors,
                app_errors = app_errors + excluded.app_errors,
                dynamic = dynamic + excluded.dynamic,
                dynamic_fast = dynamic_fast + excluded.dynamic_fast,
                static = static + excluded.static,
                probes = probes + excluded.probes,
                probes_ok = probes_ok + excluded.probes_ok,
                maintenance = excluded.maintenance;
            """;
        var app = command.Parameters.Add("$app", SqliteType.Text);
        var minuteParameter = command.Parameters.Add("$minute", SqliteType.Integer);
        var requests = command.Parameters.Add("$requests", SqliteType.Integer);
        var platformErrors = command.Parameters.Add("$platform_errors", SqliteType.Integer);
        var appErrors = command.Parameters.Add("$app_errors", SqliteType.Integer);
        var dynamic = command.Parameters.Add("$dynamic", SqliteType.Integer);
        var dynamicFast = command.Parameters.Add("$dynamic_fast", SqliteType.Integer);
        var statics = command.Parameters.Add("$static", SqliteType.Integer);
        var probes = command.Parameters.Add("$probes", SqliteType.Integer);
        var probesOk = command.Parameters.Add("$probes_ok", SqliteType.Integer);
        command.Parameters.AddWithValue("$maintenance", maintenance ? 1 : 0);
        foreach (var (name, counts) in rows)
        {
            app.Value = name;
            minuteParameter.Value = minute;
            requests.Value = counts.Requests;
            platformErrors.Value = counts.PlatformErrors;
            appErrors.Value = counts.AppErrors;
            dynamic.Value = counts.Dynamic;
            dynamicFast.Value = counts.DynamicFast;
            statics.Value = counts.Static;
            probes.Value = counts.Probes;
            probesOk.Value = counts.ProbesOk;
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>
    /// Sums the minutes in [<paramref name="fromMinute"/>, <paramref name="toMinute"/>) per app: the regular
    /// minutes and, apart, those of planned maintenance.
    /// </summary>
    public (Dictionary<string, SloCounts> Regular, Dictionary<string, SloCounts> Maintenance) Totals(long fromMinute, long toMinute)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"""
            SELECT app, maintenance, {SumOf(Columns)}
            FROM slo_minutes WHERE minute >= $from AND minute < $to GROUP BY app, maintenance;
            """;
        command.Parameters.AddWithValue("$from", fromMinute);
        command.Parameters.AddWithValue("$to", toMinute);
        var regular = new Dictionary<string, SloCounts>(StringComparer.Ordinal);
        var maintenance = new Dictionary<string, SloCounts>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var counts = new SloCounts(reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9));
            (reader.GetInt64(1) == 0 ? regular : maintenance)[reader.GetString(0)] = counts;
        }

        return (regular, maintenance);
    }

    /// <summary>
    /// The busiest regular (not maintenance) minute in [<paramref name="fromMinute"/>, <paramref name="toMinute"/>),
    /// all apps together: (static, dynamic) requests.
    /// </summary>
    public (long Static, long Dynamic) PeakMinute(long fromMinute, long toMinute)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT coalesce(max(s), 0), coalesce(max(d), 0) FROM (
                SELECT sum(static) AS s, sum(dynamic) AS d FROM slo_minutes
                WHERE minute >= $from AND minute < $to AND maintenance = 0 GROUP BY minute);
            """;
        command.Parameters.AddWithValue("$from", fromMinute);
        command.Parameters.AddWithValue("$to", toMinute);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);
    }

    /// <summary>Deletes the minutes before <paramref name="beforeMinute"/>; returns how many rows went.</summary>
    public int Prune(long beforeMinute)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "DELETE FROM slo_minutes WHERE minute < $before;";
        command.Parameters.AddWithValue("$before", beforeMinute);
        return command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>
    /// Brings the file to <see cref="SchemaVersion"/>: creates the table, or adds the columns a version-1 file
    /// lacks (their counts start at 0). A file from a newer host is refused rather than misread.
    /// </summary>
    private static void Migrate(SqliteConnection connection, string path)
    {
        var version = Convert.ToInt64(Scalar(connection, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
        {
            throw new InvalidDataException($"the SLO ledger '{path}' has schema version {version}, written by a newer PyPE.Exec (this one reads up to {SchemaVersion})");
        }

        if (version == SchemaVersion)
        {
            return;
        }

        using var transaction = connection.BeginTransaction();
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS slo_minutes (
                app TEXT NOT NULL,
                minute INTEGER NOT NULL,
                requests INTEGER NOT NULL,
                platform_errors INTEGER NOT NULL,
                app_errors INTEGER NOT NULL,
                dynamic INTEGER NOT NULL,
                dynamic_fast INTEGER NOT NULL,
                static INTEGER NOT NULL,
                PRIMARY KEY (app, minute)
            ) WITHOUT ROWID;
            """, transaction);
        var existing = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var columns = connection.CreateCommand())
        {
            columns.Transaction = transaction;
            columns.CommandText = "SELECT name FROM pragma_table_info('slo_minutes');";
            using var reader = columns.ExecuteReader();
            while (reader.Read())
            {
                existing.Add(reader.GetString(0));
            }
        }

        foreach (var column in (string[])["probes", "probes_ok", "maintenance"])
        {
            if (!existing.Contains(column))
            {
                Execute(connection, $"ALTER TABLE slo_minutes ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0;", transaction);
            }
        }

        Execute(connection, $"PRAGMA user_version = {SchemaVersion};", transaction);
        transaction.Commit();
    }

    private static string SumOf(string columns) => string.Join(", ", columns.Split(", ").Select(c => $"sum({c})"));

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
