using Microsoft.Extensions.Logging;

namespace PyPE.Supervisor.Supervision;

public sealed partial class SupervisorService
{
    [LoggerMessage(EventId = LogEvents.RuntimeRegistered, Level = LogLevel.Information, Message = "Platform version {Runtime}: Python {Version} at {Python} ({Origin})")]
    private partial void LogRuntime(string runtime, string version, string python, string origin);

    [LoggerMessage(EventId = LogEvents.RuntimeUnavailable, Level = LogLevel.Error, Message = "Platform version {Runtime} is unavailable: {Error}")]
    private partial void LogRuntimeUnavailable(string runtime, string error);

    [LoggerMessage(EventId = LogEvents.CatalogLoaded, Level = LogLevel.Information, Message = "Apps directory {AppsDirectory}: {Apps} apps routed, {Rejected} files rejected")]
    private partial void LogCatalogLoaded(string appsDirectory, int apps, int rejected);

    [LoggerMessage(EventId = LogEvents.CatalogRejectedApp, Level = LogLevel.Error, Message = "App file {App} has {ErrorCount} errors and is not loaded (a running version keeps serving):\n  {Errors}")]
    private partial void LogRejected(string app, int errorCount, string errors);

    [LoggerMessage(EventId = LogEvents.CatalogReloadFailed, Level = LogLevel.Error, Message = "Reading the apps directory {AppsDirectory} failed; the running apps are unchanged")]
    private partial void LogReloadFailed(Exception exception, string appsDirectory);

    [LoggerMessage(EventId = LogEvents.AppAdded, Level = LogLevel.Information, Message = "App {App} added on platform version {Runtime}")]
    private partial void LogAppAdded(string app, string runtime);

    [LoggerMessage(EventId = LogEvents.AppRemoved, Level = LogLevel.Information, Message = "App {App} removed; its workers finish their requests and stop")]
    private partial void LogAppRemoved(string app);

    [LoggerMessage(EventId = LogEvents.AppReplaced, Level = LogLevel.Information, Message = "App {App} changed; the new version is ready and now serves, the old one drains")]
    private partial void LogAppReplaced(string app);

    [LoggerMessage(EventId = LogEvents.AppReplaceFailed, Level = LogLevel.Error, Message = "App {App} changed but the new version failed to start; the old version keeps serving. Error:\n{Error}")]
    private partial void LogAppReplaceFailed(string app, string error);

    [LoggerMessage(EventId = LogEvents.AppRetireFailed, Level = LogLevel.Error, Message = "Stopping the previous version of app {App} failed")]
    private partial void LogRetireFailed(Exception exception, string app);
}
