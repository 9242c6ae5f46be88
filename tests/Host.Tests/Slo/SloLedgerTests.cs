using System.Net;
using Microsoft.Data.Sqlite;
using PyPE.Host.Slo;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Slo;

public sealed class SloLedgerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pype-slo-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact(Timeout = 30_000)]
    public async Task Ledger_AddsMinutes_SumsWindows_AndPrunes()
    {
        await Task.Yield();
        var path = Path.Combine(_folder, "ledger.db");
        using (var ledger = SloLedger.Open(path))
        {
            ledger.Add(100, [("a", new SloCounts(10, 1, 2, 8, 7, 2)), ("b", new SloCounts(5, 0, 0, 5, 5, 0))]);
            // The same minute again (a restart within the minute, a retried write) adds to it.
            ledger.Add(100, [("a", new SloCounts(1, 0, 0, 1, 1, 0))]);
            ledger.Add(101, [("a", new SloCounts(4, 0, 1, 4, 3, 0))]);
        }

        using var reopened = SloLedger.Open(path);
        var totals = reopened.Totals(100, 102).Regular;
        Assert.Equal(new SloCounts(15, 1, 3, 13, 11, 2), totals["a"]);
        Assert.Equal(new SloCounts(5, 0, 0, 5, 5, 0), totals["b"]);
        Assert.Equal(new SloCounts(11, 1, 2, 9, 8, 2), reopened.Totals(100, 101).Regular["a"]);

        Assert.Equal(2, reopened.Prune(101));
        Assert.False(reopened.Totals(0, 101).Regular.ContainsKey("a"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Ledger_KeepsMaintenanceMinutesApart_AndOutOfThePeak()
    {
        await Task.Yield();
        using var ledger = SloLedger.Open(Path.Combine(_folder, "maintenance.db"));
        ledger.Add(200, [("a", new SloCounts(10, 0, 0, 10, 10, 0, 4, 4))]);
        ledger.Add(201, [("a", new SloCounts(50, 50, 0, 50, 0, 0, 4, 0))], maintenance: true);

        var (regular, maintenance) = ledger.Totals(200, 202);

        Assert.Equal(new SloCounts(10, 0, 0, 10, 10, 0, 4, 4), regular["a"]);
        Assert.Equal(new SloCounts(50, 50, 0, 50, 0, 0, 4, 0), maintenance["a"]);
        Assert.Equal((0L, 10L), ledger.PeakMinute(200, 202));
    }

    [Fact(Timeout = 30_000)]
    public async Task Ledger_UpgradesAVersion1File_KeepingItsMinutes()
    {
        var path = Path.Combine(_folder, "v1.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            using var create = connection.CreateCommand();
            create.CommandText = """
                CREATE TABLE slo_minutes (app TEXT NOT NULL, minute INTEGER NOT NULL, requests INTEGER NOT NULL,
                    platform_errors INTEGER NOT NULL, app_errors INTEGER NOT NULL, dynamic INTEGER NOT NULL,
                    dynamic_fast INTEGER NOT NULL, static INTEGER NOT NULL, PRIMARY KEY (app, minute)) WITHOUT ROWID;
                INSERT INTO slo_minutes VALUES ('old', 7, 3, 1, 0, 3, 2, 0);
                """;
            await create.ExecuteNonQueryAsync();
        }

        using var ledger = SloLedger.Open(path);
        ledger.Add(7, [("old", new SloCounts(1, 0, 0, 1, 1, 0, 2, 1))]);

        Assert.Equal(new SloCounts(4, 1, 0, 4, 3, 0, 2, 1), ledger.Totals(0, 10).Regular["old"]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Ledger_WrittenByANewerHost_IsRefusedWithAClearError()
    {
        var path = Path.Combine(_folder, "newer.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            using var version = connection.CreateCommand();
            version.CommandText = $"PRAGMA user_version = {SloLedger.SchemaVersion + 1};";
            await version.ExecuteNonQueryAsync();
        }

        var error = Assert.Throws<InvalidDataException>(() => SloLedger.Open(path));
        Assert.Contains("newer PyPE.Exec", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Ledger_OnACorruptFile_RefusesToOpen()
    {
        var path = Path.Combine(_folder, "corrupt.db");
        await File.WriteAllTextAsync(path, string.Concat(Enumerable.Repeat("this is not a database ", 200)));
        Assert.Throws<SqliteException>(() => SloLedger.Open(path));
    }

    [Fact(Timeout = 90_000)]
    public async Task Counts_SurviveAHostRestart_AndAGracefulStopLosesNothing()
    {
        var root = Directory.CreateTempSubdirectory("pype-slo-host-").FullName;
        try
        {
            var app = new TestApp("ledger");
            await using (var first = await TestHost.StartAsync([app], root: root))
            {
                first.KeepRoot = true;
                await SendAsync(first, "/apps/ledger/health", 7);
                await SendAsync(first, "/apps/ledger/exception", 2);
            }

            await using (var second = await TestHost.StartAsync([app], root: root))
            {
                second.KeepRoot = true;
                await SendAsync(second, "/apps/ledger/health", 5);
            }

            using var ledger = SloLedger.Open(Path.Combine(root, "slo.db"));
            var counts = ledger.Totals(0, long.MaxValue).Regular["ledger"];
            Assert.Equal(14, counts.Requests);
            Assert.Equal(2, counts.AppErrors);
            Assert.Equal(0, counts.PlatformErrors);
            Assert.Equal(14, counts.Dynamic);
            Assert.Equal(14, counts.DynamicFast);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task CorruptLedgerFile_IsReported_AndTheHostKeepsServing()
    {
        var root = Directory.CreateTempSubdirectory("pype-slo-corrupt-").FullName;
        await File.WriteAllTextAsync(Path.Combine(root, "slo.db"), string.Concat(Enumerable.Repeat("garbage ", 1000)));
        await using var host = await TestHost.StartAsync([new TestApp("serving")], root: root);

        await SendAsync(host, "/apps/serving/health", 3);

        var status = await host.StatusAsync();
        Assert.Contains("cannot open the SLO ledger", status.GetProperty("host").GetProperty("sloLedgerError").GetString(), StringComparison.Ordinal);
    }

    // The timeout also guards start-up: a statement on a locked file once waited 30 s, twice, before failing.
    [Fact(Timeout = 40_000)]
    public async Task LockedLedgerFile_IsReported_TheHostKeepsServing_AndTheCountsAreWrittenOnceItIsFree()
    {
        var root = Directory.CreateTempSubdirectory("pype-slo-locked-").FullName;
        try
        {
            var path = Path.Combine(root, "slo.db");
            var locker = new SqliteConnection($"Data Source={path};Pooling=False");
            await locker.OpenAsync();
            using (var exclusive = locker.CreateCommand())
            {
                // Another process holding the file: nobody else may even read it until it lets go.
                exclusive.CommandText = "PRAGMA locking_mode = EXCLUSIVE; CREATE TABLE held (x); BEGIN EXCLUSIVE;";
                await exclusive.ExecuteNonQueryAsync();
            }

            await using (var host = await TestHost.StartAsync([new TestApp("locked")], root: root))
            {
                host.KeepRoot = true;
                await SendAsync(host, "/apps/locked/health", 4);

                var status = await host.StatusAsync();
                Assert.Contains("locked", status.GetProperty("host").GetProperty("sloLedgerError").GetString(), StringComparison.Ordinal);
                var slo = System.Text.Json.JsonDocument.Parse(await host.Admin.GetStringAsync("/slo")).RootElement;
                Assert.Contains("locked", slo.GetProperty("ledgerError").GetString(), StringComparison.Ordinal);

                // The other process lets go; the graceful stop then writes what was kept in memory.
                await locker.DisposeAsync();
            }

            using var ledger = SloLedger.Open(path);
            Assert.Equal(4, ledger.Totals(0, long.MaxValue).Regular["locked"].Requests);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task SendAsync(TestHost host, string path, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await host.Client.GetAsync(path);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.InternalServerError, $"{path}: {response.StatusCode}");
        }
    }
}
