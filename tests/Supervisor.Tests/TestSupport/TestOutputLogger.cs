using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace PyPE.Supervisor.Tests.TestSupport;

/// <summary>Writes log lines to the test's output, which xunit shows when the test fails.</summary>
internal sealed class TestOutputLogger<T>(ITestOutputHelper output, TimeProvider time) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"{time.GetUtcNow():HH:mm:ss.fff} {logLevel} {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
        }
        catch (InvalidOperationException)
        {
            // A background loop logging after its test ended.
        }
    }
}
