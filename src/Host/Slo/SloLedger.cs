using Microsoft.Data.Sqlite;

namespace PyPE.Host.Slo;

/// <summary>
/// The SQLite store of per-minute SLI counts, one row per app and minute (minutes since the Unix epoch, UTC).
/// Writing a minute again adds to it, so a restart within a minute, or a retry after a failed write, loses
/// and doubles nothing.
/// </summary>
internal sealed class SloLedger : IDisposable
{
    private readonly SqliteConnection _connection;

    private SloLedger(SqliteConnection connection) => _connection = connection;

    public string Path { get; private init; } = "";

    /// <summary>Opens (creating if needed) the ledger; throws <see cref="SqliteException"/> for a corrupt or locked file.</summary>
    public static SloLedger Open(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute(connection, """
                PRAGMA busy_timeout = 2000;
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
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
                """);
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

    /// <summary>Adds the counts of <paramref name="minute"/> for each app, in one transaction.</summary>
    public void Add(long minute, IReadOnlyCollection<(string App, SloCounts Counts)> rows)
    {
        using var transaction = _connection.BeginTransaction();
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO slo_minutes (app, minute, requests, platform_errors, app_errors, dynamic, dynamic_fast, static)
            VALUES ($app, $minute, $requests, $platform_errors, $app_errors, $dynamic, $dynamic_fast, $static)
            ON CONFLICT (app, minute) DO UPDATE SET
                requests = requests + excluded.requests,
                platform_errors = platform_errors + excluded.platform_errors,
                app_errors = app_errors + excluded.app_errors,
                dynamic = dynamic + excluded.dynamic,
                dynamic_fast = dynamic_fast + excluded.dynamic_fast,
                static = static + excluded.static;
            """;
        var app = command.Parameters.Add("$app", SqliteType.Text);
        var minuteParameter = command.Parameters.Add("$minute", SqliteType.Integer);
        var requests = command.Parameters.Add("$requests", SqliteType.Integer);
        var platformErrors = command.Parameters.Add("$platform_errors", SqliteType.Integer);
        var appErrors = command.Parameters.Add("$app_errors", SqliteType.Integer);
        var dynamic = command.Parameters.Add("$dynamic", SqliteType.Integer);
        var dynamicFast = command.Parameters.Add("$dynamic_fast", SqliteType.Integer);
        var statics = command.Parameters.Add("$static", SqliteType.Integer);
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
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Sums the minutes in [<paramref name="fromMinute"/>, <paramref name="toMinute"/>) per app.</summary>
    public Dictionary<string, SloCounts> Totals(long fromMinute, long toMinute)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT app, sum(requests), sum(platform_errors), sum(app_errors), sum(dynamic), sum(dynamic_fast), sum(static)
            FROM slo_minutes WHERE minute >= $from AND minute < $to GROUP BY app;
            """;
        command.Parameters.AddWithValue("$from", fromMinute);
        command.Parameters.AddWithValue("$to", toMinute);
        var totals = new Dictionary<string, SloCounts>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            totals[reader.GetString(0)] = new SloCounts(reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6));
        }

        return totals;
    }

    /// <summary>The busiest minute in [<paramref name="fromMinute"/>, <paramref name="toMinute"/>), all apps together: (static, dynamic) requests.</summary>
    public (long Static, long Dynamic) PeakMinute(long fromMinute, long toMinute)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT coalesce(max(s), 0), coalesce(max(d), 0) FROM (
                SELECT sum(static) AS s, sum(dynamic) AS d FROM slo_minutes WHERE minute >= $from AND minute < $to GROUP BY minute);
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

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
