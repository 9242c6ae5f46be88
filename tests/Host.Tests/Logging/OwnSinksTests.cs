using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using PyPE.Host.Hosting;
using PyPE.Host.Logging;
using PyPE.Host.Tests.Infrastructure;
using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;

namespace PyPE.Host.Tests.Logging;

/// <summary>
/// Sinks an operator names in <c>Serilog:WriteTo</c> are written from the host's log buffer, never on the thread that
/// logs (a request's event thread), with the section's levels applied before the buffer.
/// </summary>
public sealed partial class OwnSinksTests
{
    [Fact(Timeout = 30_000)]
    public async Task AnOperatorsSink_IsWrittenInTheBackground_SoASlowOneNeverStallsTheLogger_AndLevelsStillApply()
    {
        var key = Guid.NewGuid().ToString("N");
        using var sink = RecordingSinkExtensions.Create(key);
        await using var app = PyPEApplication.Build([
            "--urls", "http://127.0.0.1:0",
            "--Serilog:Using:0=PyPE.Host.Tests",
            "--Serilog:WriteTo:0:Name=Recording",
            "--Serilog:WriteTo:0:Args:key=" + key,
            "--Serilog:MinimumLevel:Default=Information",
        ]);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("own-sinks");

        // The sink hangs (a log server that stopped answering): logging must return at once anyway.
        sink.Hang();
        var caller = Environment.CurrentManagedThreadId;
        var logging = Task.Run(() =>
        {
            BelowTheLevel(logger);
            for (var i = 0; i < 3; i++)
            {
                Numbered(logger, i);
            }
        });
        await logging.WaitAsync(TimeSpan.FromSeconds(10));

        sink.Resume();
        await Wait.UntilAsync(() => sink.Messages.Count == 3, TimeSpan.FromSeconds(10), "the three events reach the operator's sink");
        Assert.Equal(["event 0", "event 1", "event 2"], sink.Messages);
        Assert.DoesNotContain(caller, sink.Threads);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "below the configured level")]
    private static partial void BelowTheLevel(Microsoft.Extensions.Logging.ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "event {Number}")]
    private static partial void Numbered(Microsoft.Extensions.Logging.ILogger logger, int number);

    [Fact]
    public void FilteredConfiguration_ShowsOnlyWhatItLetsThrough_AndReloadsWithTheOriginal()
    {
        var root = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Serilog:MinimumLevel:Default"] = "Information",
            ["Serilog:Using:0"] = "Some.Sinks",
            ["Serilog:WriteTo:0:Name"] = "File",
            ["Serilog:WriteToo"] = "not the sinks section",
            ["Other"] = "x",
        }).Build();

        var withoutSinks = FilteredConfiguration.Without(root, "Serilog:WriteTo");
        Assert.Null(withoutSinks["Serilog:WriteTo:0:Name"]);
        Assert.False(withoutSinks.GetSection("Serilog:WriteTo").Exists());
        Assert.Equal(["MinimumLevel", "Using", "WriteToo"], withoutSinks.GetSection("Serilog").GetChildren().Select(c => c.Key));
        Assert.Equal("x", withoutSinks["Other"]);

        var onlySinks = FilteredConfiguration.Only(root, "Serilog:Using", "Serilog:WriteTo");
        Assert.Equal(["Using", "WriteTo"], onlySinks.GetSection("Serilog").GetChildren().Select(c => c.Key));
        Assert.Equal("File", onlySinks["Serilog:WriteTo:0:Name"]);
        Assert.Null(onlySinks["Serilog:MinimumLevel:Default"]);
        Assert.Null(onlySinks["Other"]);

        // A changed value reads through; a reload of the original reaches whoever watches the view (Serilog's levels).
        var reloaded = 0;
        using var watch = ChangeToken.OnChange(withoutSinks.GetReloadToken, () => Interlocked.Increment(ref reloaded));
        root["Serilog:MinimumLevel:Default"] = "Debug";
        root.Reload();
        Assert.Equal("Debug", withoutSinks["Serilog:MinimumLevel:Default"]);
        Assert.Equal(1, reloaded);
    }
}

/// <summary>The test's own Serilog sink, found by Serilog.Settings.Configuration as <c>Recording</c> in this assembly.</summary>
public static class RecordingSinkExtensions
{
    private static readonly ConcurrentDictionary<string, RecordingSink> Sinks = new();

    public static LoggerConfiguration Recording(this LoggerSinkConfiguration configuration, string key) => configuration.Sink(Sinks[key]);

    internal static RecordingSink Create(string key) => Sinks[key] = new RecordingSink();

    internal sealed class RecordingSink : ILogEventSink, IDisposable
    {
        private readonly ManualResetEventSlim _running = new(true);
        private readonly ConcurrentQueue<string> _messages = new();
        private readonly ConcurrentBag<int> _threads = [];

        public IReadOnlyList<string> Messages => [.. _messages];

        public IReadOnlyCollection<int> Threads => [.. _threads];

        public void Hang() => _running.Reset();

        public void Resume() => _running.Set();

        public void Emit(LogEvent logEvent)
        {
            _threads.Add(Environment.CurrentManagedThreadId);
            _running.Wait(TimeSpan.FromSeconds(20));
            _messages.Enqueue(logEvent.RenderMessage());
        }

        public void Dispose() => _running.Dispose();
    }
}
