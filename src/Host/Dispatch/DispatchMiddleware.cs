using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using PyPE.Host.Metrics;
using PyPE.Host.Routing;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Workers;
using Yarp.ReverseProxy.Forwarder;

namespace PyPE.Host.Dispatch;

/// <summary>
/// The request path: route → static file or app → buffer the body → take a worker slot (bounded queue) →
/// forward over the worker's Unix socket → release the slot → record metrics. A YARP load-balancing
/// policy cannot wait for a free slot, so this is a terminal middleware around <see cref="IHttpForwarder"/>.
/// </summary>
internal sealed partial class DispatchMiddleware(
    RouteTableProvider routes,
    IHttpForwarder forwarder,
    PyPEMetrics metrics,
    ErrorPages pages,
    ILogger<DispatchMiddleware> logger)
{
    private const string WorkerAddress = "http://worker";
    private readonly AppMetrics _unrouted = metrics.ForApp(PyPEMetrics.NoApp);

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var path = context.Request.Path.Value ?? "/";
        var route = routes.Current.Match(context.Request.Host.Host, path);
        if (route is null)
        {
            await pages.NotFoundAsync(context);
            _unrouted.RecordRequest(RequestClass.Static, context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return;
        }

        foreach (var mount in route.StaticMounts)
        {
            if (RouteTable.IsUnderPrefix(path, mount.UrlPrefix))
            {
                await mount.Serve(context);
                route.Metrics.RecordRequest(RequestClass.Static, context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalSeconds);
                return;
            }
        }

        await DispatchToWorkerAsync(context, route);
        route.Metrics.RecordRequest(RequestClass.Dynamic, context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private async Task DispatchToWorkerAsync(HttpContext context, AppRoute route)
    {
        var body = await RequestBodyBuffer.BufferAsync(context, route.MaxRequestBodyBytes);
        switch (body)
        {
            case RequestBodyBuffer.Outcome.TooLarge:
                route.Metrics.RecordRejected(RejectReason.BodyTooLarge);
                // The unread rest of the body is not worth reading: close the connection after the answer.
                context.Response.Headers.Connection = "close";
                await pages.BodyTooLargeAsync(context);
                return;
            case RequestBodyBuffer.Outcome.ClientGone:
                context.Response.StatusCode = 499;
                return;
        }

        var pool = route.Pool;
        // One retry, only for a request that never reached a worker (it died while idle): safe for any method.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var slot = await pool.Dispatcher.AcquireAsync(context.RequestAborted);
            if (slot.Worker is not { } worker)
            {
                await RejectAsync(context, route, slot.Failure);
                return;
            }

            ForwarderError error;
            try
            {
                error = await forwarder.SendAsync(context, WorkerAddress, worker.Client!, route.ForwarderConfig, WorkerRequestTransformer.Instance);
            }
            finally
            {
                pool.Dispatcher.Release(worker);
            }

            if (error == ForwarderError.None)
            {
                return;
            }

            if (attempt == 0 && IsNeverSent(context, error))
            {
                LogRetrying(pool.App.Name, worker.Id);
                pool.ReportUnreachable(worker);
                if (body == RequestBodyBuffer.Outcome.Buffered)
                {
                    context.Request.Body.Position = 0;
                }

                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Features.Set<IForwarderErrorFeature>(null);
                continue;
            }

            await HandleForwardErrorAsync(context, route, worker, error);
            return;
        }
    }

    private async Task HandleForwardErrorAsync(HttpContext context, AppRoute route, Worker worker, ForwarderError error)
    {
        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled)
        {
            // The client left; nothing to answer.
            return;
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (error == ForwarderError.RequestTimedOut)
        {
            route.Metrics.RecordRejected(RejectReason.RequestTimeout);
            LogTimedOut(route.Pool.App.Name, worker.Id, worker.Pid, route.ForwarderConfig.ActivityTimeout!.Value.TotalSeconds, context.Request.Method, context.Request.Path.Value);
            route.Pool.ReportRequestTimeout(worker);
            if (!context.Response.HasStarted)
            {
                await pages.TimeoutAsync(context);
            }

            return;
        }

        route.Metrics.RecordRejected(RejectReason.WorkerLost);
        LogForwardFailed(route.Pool.App.Name, worker.Id, worker.Pid, error, exception?.Message);
        if (!context.Response.HasStarted)
        {
            await pages.BadGatewayAsync(context);
        }
    }

    private Task RejectAsync(HttpContext context, AppRoute route, AcquireFailure failure)
    {
        switch (failure)
        {
            case AcquireFailure.QueueFull:
                route.Metrics.RecordRejected(RejectReason.QueueFull);
                return pages.BusyAsync(context, TimeSpan.FromSeconds(1));
            case AcquireFailure.QueueTimeout:
                route.Metrics.RecordRejected(RejectReason.QueueTimeout);
                return pages.BusyAsync(context, TimeSpan.FromSeconds(5));
            case AcquireFailure.AppFailed:
                route.Metrics.RecordRejected(RejectReason.AppFailed);
                return pages.AppFailedAsync(context);
            case AcquireFailure.Stopping:
                route.Metrics.RecordRejected(RejectReason.Stopping);
                return pages.StoppingAsync(context);
            default:
                context.Response.StatusCode = 499;
                return Task.CompletedTask;
        }
    }

    /// <summary>True when the worker's socket refused the connection: the request never left the host.</summary>
    private static bool IsNeverSent(HttpContext context, ForwarderError error)
    {
        if (error != ForwarderError.Request || context.Response.HasStarted)
        {
            return false;
        }

        for (var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception; exception is not null; exception = exception.InnerException)
        {
            if (exception is ObjectDisposedException)
            {
                // The worker's client was disposed as it exited, before this request could be sent.
                return true;
            }

            if (exception is System.Net.Sockets.SocketException socket)
            {
                return socket.SocketErrorCode is System.Net.Sockets.SocketError.ConnectionRefused
                    or System.Net.Sockets.SocketError.AddressNotAvailable
                    or System.Net.Sockets.SocketError.AddressFamilyNotSupported
                    || socket.ErrorCode == 2; // ENOENT: the socket file is already gone
            }
        }

        return false;
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "App {App}: worker {WorkerId} refused the connection (it just died); retrying on another worker")]
    private partial void LogRetrying(string app, string workerId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "App {App}: worker {WorkerId} (pid {Pid}) did not answer {Method} {Path} within {TimeoutSeconds} s; answered 504")]
    private partial void LogTimedOut(string app, string workerId, int pid, double timeoutSeconds, string method, string? path);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "App {App}: forwarding to worker {WorkerId} (pid {Pid}) failed ({Error}): {Reason}")]
    private partial void LogForwardFailed(string app, string workerId, int pid, ForwarderError error, string? reason);
}
