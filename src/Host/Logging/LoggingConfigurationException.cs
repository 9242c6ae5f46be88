using System.Reflection;

namespace PyPE.Host.Logging;

/// <summary>
/// The <c>Serilog</c> section cannot be read (a sink without a name, a level that is not one, an argument no sink
/// method takes): the host refuses to start and says which key, in the operator's terms.
/// </summary>
internal sealed class LoggingConfigurationException(string message, Exception inner) : Exception(message, inner)
{
    public static LoggingConfigurationException From(Exception exception)
    {
        // Sinks inside an Async wrapper are configured by reflection: the reason is inside the invocation's wrapper.
        var reason = exception;
        while (reason is TargetInvocationException { InnerException: { } inner })
        {
            reason = inner;
        }

        return new LoggingConfigurationException($"Serilog: {BufferedSinksView.OperatorPaths(reason.Message)}", exception);
    }
}
