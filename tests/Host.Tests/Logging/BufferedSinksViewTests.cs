using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;
using PyPE.Host.Logging;
using PyPE.Host.Tests.Infrastructure;

namespace PyPE.Host.Tests.Logging;

/// <summary>
/// The operator's <c>Serilog:WriteTo</c> sinks, read by Serilog.Settings.Configuration through the host's view:
/// written from a background thread, and everything else in the section resolving as it would without the view.
/// The sinks here are <see cref="RecordingSinkExtensions.Recording"/>, named in configuration like any sink package.
/// </summary>
public sealed class BufferedSinksViewTests
{
    private static readonly Action<Microsoft.Extensions.Logging.ILogger, int, Exception?> s_warning =
        LoggerMessage.Define<int>(LogLevel.Warning, new EventId(1), "event {Number}");

    private readonly string _name = Guid.NewGuid().ToString("N");

    private RecordingSink Sink => RecordingSink.Named(_name);

    [Fact(Timeout = 10_000)]
    public async Task AnOperatorSink_IsWrittenFromABackgroundThread_SoASlowSinkDoesNotHoldTheCaller()
    {
        var configuration = Configuration(new() { ["Serilog:WriteTo:0:Name"] = "Recording", ["Serilog:WriteTo:0:Args:name"] = _name });
        Sink.Blocked = true;
        await using (var logger = Logger(configuration, new LogBuffer()))
        {
            // The sink is stuck in its first write: these calls return all the same.
            for (var i = 0; i < 3; i++)
            {
                logger.Warning("event {Number}", i);
            }

            await Sink.Started.Task.WaitAsync(TimeSpan.FromSeconds(5));
            Sink.Release();
        }

        Assert.Equal(3, Sink.Events.Count);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, Sink.Threads);
    }

    [Fact(Timeout = 10_000)]
    public async Task EventsBeyondTheBuffer_AreDroppedAndCounted_AsForTheConsole()
    {
        var configuration = Configuration(new() { ["Serilog:WriteTo:0:Name"] = "Recording", ["Serilog:WriteTo:0:Args:name"] = _name });
        Sink.Blocked = true;
        var buffer = new LogBuffer();
        await using (var logger = Logger(configuration, buffer))
        {
            for (var i = 0; i < LogBuffer.Capacity + 50; i++)
            {
                logger.Warning("event {Number}", i);
            }

            Assert.InRange(buffer.Dropped, 48, 50);
            Sink.Release();
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task ALevelSwitchNamedByASink_IsTheOneTheSectionDeclares()
    {
        var configuration = Configuration(new()
        {
            ["Serilog:LevelSwitches:$shared"] = "Warning",
            ["Serilog:MinimumLevel:ControlledBy"] = "$shared",
            ["Serilog:WriteTo:0:Name"] = "Recording",
            ["Serilog:WriteTo:0:Args:name"] = _name,
            ["Serilog:WriteTo:0:Args:levelSwitch"] = "$shared",
        });
        await using (var logger = Logger(configuration, new LogBuffer()))
        {
            logger.Information("filtered");
            // The switch the sink was given controls the logger's minimum level too: one switch, not two.
            Sink.LevelSwitch!.MinimumLevel = LogEventLevel.Information;
            logger.Information("passed");
        }

        Assert.Equal(["passed"], Sink.Events.Select(e => e.MessageTemplate.Text));
    }

    [Fact(Timeout = 10_000)]
    public async Task ASinkReadingOtherConfiguration_FindsIt()
    {
        var configuration = Configuration(new()
        {
            ["ConnectionStrings:Logs"] = "Data Source=logs.db",
            ["Serilog:WriteTo:0:Name"] = "Recording",
            ["Serilog:WriteTo:0:Args:name"] = _name,
            ["Serilog:WriteTo:0:Args:connectionStringName"] = "Logs",
        });
        await using (Logger(configuration, new LogBuffer()))
        {
        }

        Assert.Equal("Data Source=logs.db", Sink.ConnectionString);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("MinimumLevel", "Debug", "MinimumLevel:Default", "Warning", false)]
    [InlineData("MinimumLevel:Default", "Warning", "MinimumLevel", "Debug", true)]
    public async Task BothMinimumLevelForms_TheLaterSourceWins(string firstKey, string firstLevel, string laterKey, string laterLevel, bool informationPasses)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(Using(new() { ["Serilog:WriteTo:0:Name"] = "Recording", ["Serilog:WriteTo:0:Args:name"] = _name, [$"Serilog:{firstKey}"] = firstLevel }))
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Serilog:{laterKey}"] = laterLevel })
            .Build();
        await using (var logger = Logger(configuration, new LogBuffer()))
        {
            logger.Information("information");
        }

        Assert.Equal(informationPasses ? 1 : 0, Sink.Events.Count);
    }

    [Fact(Timeout = 10_000)]
    public async Task AMinimumLevelChangedInTheConfiguration_ReachesTheLogger()
    {
        var configuration = Configuration(new()
        {
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Serilog:WriteTo:0:Name"] = "Recording",
            ["Serilog:WriteTo:0:Args:name"] = _name,
        });
        await using (var logger = Logger(configuration, new LogBuffer()))
        {
            logger.Information("filtered");
            configuration["Serilog:MinimumLevel:Default"] = "Information";
            configuration.Reload(); // what a changed appsettings.json does
            logger.Information("passed");
        }

        Assert.Equal(["passed"], Sink.Events.Select(e => e.MessageTemplate.Text));
    }

    [Fact(Timeout = 60_000)]
    public async Task TheHost_WritesItsWarnings_ToAFileSinkTheOperatorNamed()
    {
        var log = Path.Combine(Directory.CreateTempSubdirectory("pype-log-").FullName, "host.log");
        await using var host = await TestHost.StartAsync([],
            ["--Serilog:WriteTo:0:Name=File", $"--Serilog:WriteTo:0:Args:path={log}"],
            rawAppFiles: [("typo", """{ "runtime": "system", "wsgi": "x:y", "route": { "pathPrefix": "/t" }, "pool": { "maxWorkers": "many" } }""")]);

        // Serilog.Sinks.File ships with the host (Serilog.AspNetCore); the rejected app file is a warning.
        await Wait.UntilAsync(() => File.Exists(log) && ReadShared(log).Contains("pool.maxWorkers", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the warning is in the file");
    }

    [Fact(Timeout = 60_000)]
    public async Task TheHost_BuffersAnOperatorSink_AndCountsWhatItDrops()
    {
        Sink.Blocked = true;
        await using var host = await TestHost.StartAsync([],
            ["--Serilog:Using:0=PyPE.Host.Tests", "--Serilog:WriteTo:0:Name=Recording", $"--Serilog:WriteTo:0:Args:name={_name}"]);
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("test");

        for (var i = 0; i < LogBuffer.Capacity + 50; i++)
        {
            s_warning(logger, i, null);
        }

        var metrics = await host.Admin.GetStringAsync("/metrics");
        Sink.Release();
        Assert.Matches(@"pype_log_events_dropped_total\{environment=""TEST""\} (4[89]|50)\n", metrics);
    }

    [Fact(Timeout = 10_000)]
    public async Task EachOperatorSink_HasABufferOfItsOwn_SoAStuckOneLosesNothingForTheOthers()
    {
        var stuck = RecordingSink.Named(_name + "-stuck");
        var configuration = Configuration(new()
        {
            ["Serilog:WriteTo:0:Name"] = "Recording",
            ["Serilog:WriteTo:0:Args:name"] = _name + "-stuck",
            ["Serilog:WriteTo:1:Name"] = "Recording",
            ["Serilog:WriteTo:1:Args:name"] = _name,
        });
        stuck.Blocked = true;
        var buffer = new LogBuffer();
        await using (var logger = Logger(configuration, buffer))
        {
            for (var i = 0; i < LogBuffer.Capacity + 50; i++)
            {
                logger.Warning("event {Number}", i);
            }

            Assert.InRange(buffer.Dropped, 48, 50); // the stuck sink's
            stuck.Release();
        }

        Assert.Equal(LogBuffer.Capacity + 50, Sink.Events.Count);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("MinimumLevel", "Debug", "MinimumLevel:Default", "Warning", false)]
    [InlineData("MinimumLevel:Default", "Warning", "MinimumLevel", "Debug", true)]
    public async Task InASubLogger_BothMinimumLevelForms_TheLaterSourceWins(string firstKey, string firstLevel, string laterKey, string laterLevel, bool informationPasses)
    {
        const string Inner = "Serilog:WriteTo:0:Args:configureLogger";
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(Using(new()
            {
                ["Serilog:MinimumLevel"] = "Verbose",
                ["Serilog:WriteTo:0:Name"] = "Logger",
                [$"{Inner}:WriteTo:0:Name"] = "Recording",
                [$"{Inner}:WriteTo:0:Args:name"] = _name,
                [$"{Inner}:{firstKey}"] = firstLevel,
            }))
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{Inner}:{laterKey}"] = laterLevel })
            .Build();
        await using (var logger = Logger(configuration, new LogBuffer()))
        {
            logger.Information("information");
        }

        Assert.Equal(informationPasses ? 1 : 0, Sink.Events.Count);
    }

    [Fact(Timeout = 10_000)]
    public async Task ALevelFormAddedByALaterSource_OnReload_ReachesTheLogger()
    {
        var later = new Dictionary<string, string?>();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(Using(new() { ["Serilog:MinimumLevel:Default"] = "Warning", ["Serilog:WriteTo:0:Name"] = "Recording", ["Serilog:WriteTo:0:Args:name"] = _name }))
            .AddInMemoryCollection(later)
            .Build();
        await using (var logger = Logger(configuration, new LogBuffer()))
        {
            logger.Information("filtered");
            configuration.Providers.Last().Set("Serilog:MinimumLevel", "Information");
            configuration.Reload();
            logger.Information("passed");
        }

        Assert.Equal(["passed"], Sink.Events.Select(e => e.MessageTemplate.Text));
    }

    [Fact(Timeout = 10_000)]
    public async Task AnArgumentSetToNull_ReachesTheSinkAsNull()
    {
        var configuration = Configuration(new() { ["Serilog:WriteTo:0:Name"] = "Recording", ["Serilog:WriteTo:0:Args:name"] = _name, ["Serilog:WriteTo:0:Args:label"] = null });
        await using (Logger(configuration, new LogBuffer()))
        {
        }

        Assert.Null(Sink.Label);
    }

    [Fact(Timeout = 60_000)]
    public async Task ABrokenSinkEntry_StopsTheHost_NamingTheOperatorsKey()
    {
        var refused = await Assert.ThrowsAsync<LoggingConfigurationException>(() => TestHost.StartAsync([], ["--Serilog:WriteTo:0:Name=File", "--Serilog:WriteTo:1:Args:path=/tmp/x.log"]));

        Assert.Equal("Serilog: The configuration value in Serilog:WriteTo:1:Name has no 'Name' element.", refused.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task TheHostProcess_WithABrokenSinkEntry_ExitsWith2_SayingWhichKey()
    {
        var apps = Directory.CreateTempSubdirectory("pype-apps-").FullName;

        var (exitCode, output) = await HostCommand.RunAsync("--urls", "http://127.0.0.1:0", "--PyPE:Admin:Urls=http://127.0.0.1:0", $"--PyPE:AppsDirectory={apps}",
            "--Serilog:WriteTo:0:Args:path=/tmp/x.log");

        Assert.Equal(2, exitCode);
        Assert.Contains("PyPE.Exec cannot start; fix these configuration errors:\n  Serilog: The configuration value in Serilog:WriteTo:0:Name has no 'Name' element.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public void SinksAlreadyAsync_AndAuditSinks_StayWhereTheOperatorPutThem()
    {
        var configuration = Configuration(new()
        {
            ["Serilog:WriteTo:0"] = "Console",
            ["Serilog:WriteTo:1:Name"] = "Async",
            ["Serilog:WriteTo:1:Args:configure:0:Name"] = "File",
            ["Serilog:WriteTo:2:Name"] = "File",
            ["Serilog:WriteTo:2:Args:path"] = "/var/log/pype.log",
            ["Serilog:AuditTo:0:Name"] = "File",
        });

        var view = BufferedSinksView.CreateView(configuration).GetSection(BufferedSinksView.ViewSection);

        // Sinks 0 and 2 each inside an Async sink of their own, in their own places; sink 1 as the operator wrote it.
        Assert.Equal("Async", view["WriteTo:0:Name"]);
        Assert.Equal("Console", view["WriteTo:0:Args:configure:0"]);
        Assert.Null(view["WriteTo:0"]);
        Assert.Equal("Async", view["WriteTo:2:Name"]);
        Assert.Equal("File", view["WriteTo:2:Args:configure:0:Name"]);
        Assert.Equal("/var/log/pype.log", view["WriteTo:2:Args:configure:0:Args:path"]);
        Assert.Equal("Async", view["WriteTo:1:Name"]);
        Assert.Equal("File", view["WriteTo:1:Args:configure:0:Name"]);
        Assert.Null(view["WriteTo:1:Args:monitor"]);
        Assert.Equal("File", view["AuditTo:0:Name"]);
        Assert.Equal("PyPE.Host.Tests", view["Using:0"]);
    }

    private static string ReadShared(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    private static Dictionary<string, string?> Using(Dictionary<string, string?> settings)
    {
        settings["Serilog:Using:0"] = "PyPE.Host.Tests";
        return settings;
    }

    private static IConfigurationRoot Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(Using(settings)).Build();

    private static Logger Logger(IConfigurationRoot configuration, LogBuffer buffer) =>
        BufferedSinksView.ReadInto(new LoggerConfiguration(), configuration, buffer).CreateLogger();
}

/// <summary>A sink that records what it is given, found by Serilog.Settings.Configuration as "Recording".</summary>
public static class RecordingSinkExtensions
{
    public static LoggerConfiguration Recording(this LoggerSinkConfiguration to, string name, LoggingLevelSwitch? levelSwitch = null, string? connectionStringName = null, IConfiguration? configuration = null, string? label = "unset")
    {
        var sink = RecordingSink.Named(name);
        sink.Label = label;
        sink.LevelSwitch = levelSwitch;
        sink.ConnectionString = connectionStringName is null ? null : configuration?.GetConnectionString(connectionStringName);
        return to.Sink(sink, levelSwitch: levelSwitch);
    }
}

public sealed class RecordingSink : ILogEventSink
{
    private static readonly ConcurrentDictionary<string, RecordingSink> s_sinks = new();
    private volatile bool _blocked;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static RecordingSink Named(string name) => s_sinks.GetOrAdd(name, _ => new RecordingSink());

    public ConcurrentQueue<LogEvent> Events { get; } = new();

    public ConcurrentBag<int> Threads { get; } = [];

    public LoggingLevelSwitch? LevelSwitch { get; set; }

    public string? ConnectionString { get; set; }

    public string? Label { get; set; }

    /// <summary>When set, each write waits for <see cref="Release"/>.</summary>
    public bool Blocked
    {
        get => _blocked;
        set => _blocked = value;
    }

    /// <summary>Set at the first write.</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _release.TrySetResult();

    public void Emit(LogEvent logEvent)
    {
        Threads.Add(Environment.CurrentManagedThreadId);
        Started.TrySetResult();
        // Blocked until released, or for 5 s at most in all: a sink written on the caller's thread (the bug these
        // tests look for) must fail them, not hang them.
        if (Blocked && !_release.Task.Wait(TimeSpan.FromSeconds(5)))
        {
            Blocked = false;
        }

        Events.Enqueue(logEvent);
    }
}
