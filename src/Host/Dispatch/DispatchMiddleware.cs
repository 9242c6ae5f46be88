using System.Diagnostics;
using PyPE.Host.Dispatch.Hop;
using PyPE.Host.Metrics;
using PyPE.Host.Probes;
using PyPE.Host.Routing;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Workers;

namespace PyPE.Host.Dispatch;

/// <summary>
/// The request path: route → static file or app → buffer the body → take a worker slot (bounded queue) →
/// forward over the worker's Unix socket (<see cref="WorkerForwarder"/>) → release the slot → record metrics.
/// A load-balancing policy cannot wait for a free slot, so this is the terminal middleware of the pipeline.
/// </summary>
internal sealed partial class DispatchMiddleware(
    RouteTableProvider routes,
    PyPEMetrics metrics,
    SyntheticProbeMarker probes,
    ErrorPages pages,
    ILogger<DispatchMiddleware> logger)
{
    private static readonly TimeSpan DyingProcessGrace = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a request handed ahead that its worker never started goes again after that worker failed.</summary>
    private const int MaxResendsAfterFailure = 2;
    private readonly AppMetrics _unrouted = metrics.ForApp(PyPEMetrics.NoApp);

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        // The host's own synthetic probes have their own SLI; they are not counted as requests.
        var counted = !probes.TakeMark(context.Request);
        var path = context.Request.Path.Value ?? "/";
        var route = routes.Current.Match(context.Request.Host.Host, path);
        if (route is null)
        {
            await pages.NotFoundAsync(context);
            if (counted)
            {
                _unrouted.RecordRequest(RequestClass.Static, context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalSeconds, ResponseOrigin.Host);
            }

            return;
        }

        foreach (var mount in route.StaticMounts)
        {
            if (RouteTable.IsUnderPrefix(path, mount.UrlPrefix))
            {
                await mount.Serve(context);
                if (counted)
                {
                    route.Metrics.RecordRequest(RequestClass.Static, context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalSeconds, ResponseOrigin.Host);
                }

                return;
            }
        }

        var result = await DispatchToWorkerAsync(context, route, path);
        if (counted)
        {
            result.Route.Metrics.RecordRequest(RequestClass.Dynamic, result.Status, Stopwatch.GetElapsedTime(started).TotalSeconds, result.Origin);
        }
    }

    /// <summary>How a dynamic request ended, for the metrics.</summary>
    /// <param name="Route">The route that finally handled it (a deploy may have swapped the app's pool meanwhile).</param>
    /// <param name="Origin">Who produced the answer: the app, or the host (rejections, failures of the platform).</param>
    /// <param name="Status">The status to record: what the client got, or 502/504 for a response that broke off.</param>
    private readonly record struct DispatchResult(AppRoute Route, ResponseOrigin Origin, int Status);

    private async Task<DispatchResult> DispatchToWorkerAsync(HttpContext context, AppRoute route, string path)
    {
        var body = await RequestBodyBuffer.BufferAsync(context, route.MaxRequestBodyBytes);
        switch (body)
        {
            case RequestBodyBuffer.Outcome.TooLarge:
                route.Metrics.RecordRejected(RejectReason.BodyTooLarge);
                // The unread rest of the body is not worth reading: close the connection after the answer.
                context.Response.Headers.Connection = "close";
                await pages.BodyTooLargeAsync(context);
                return new(route, ResponseOrigin.Host, context.Response.StatusCode);
            case RequestBodyBuffer.Outcome.Malformed:
                // Kestrel's own verdict: 400 for bad framing, 408 for a body that arrived too slowly.
                await pages.BadRequestAsync(context, context.Items[RequestBodyBuffer.FailureStatusKey] as int? ?? StatusCodes.Status400BadRequest);
                return new(route, ResponseOrigin.Host, context.Response.StatusCode);
            case RequestBodyBuffer.Outcome.ClientGone:
                context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                return new(route, ResponseOrigin.Host, context.Response.StatusCode);
        }

        var retried = false;
        var rerouted = false;
        var resentAfterFailure = 0;
        AcquireResult? moved = null;
        while (true)
        {
            AcquireResult slot;
            if (moved is { } held)
            {
                // Taken back from a busy worker for one that became free: its thread is held for this request.
                slot = held;
                moved = null;
            }
            else
            {
                var waitStarted = Stopwatch.GetTimestamp();
                slot = await route.Pool.Dispatcher.AcquireAsync(context.RequestAborted);
                var waited = Stopwatch.GetElapsedTime(waitStarted);
                route.Metrics.RecordQueueWait(waited.TotalSeconds);
                if (slot.Ticket is { } handedAhead)
                {
                    route.Pool.Dispatcher.StartQueueDeadline(handedAhead, waited);
                }
            }

            if (slot.Worker is not { } worker)
            {
                // A deploy replaced the app's pool while this request waited in the old one: go to the new one.
                if (slot.Failure == AcquireFailure.Stopping && !rerouted && routes.Current.Match(context.Request.Host.Host, path) is { } fresh
                    && fresh.Pool != route.Pool && fresh.Pool.App.Name == route.Pool.App.Name)
                {
                    route = fresh;
                    rerouted = true;
                    continue;
                }

                await RejectAsync(context, route, slot.Failure);
                return new(route, ResponseOrigin.Host, context.Response.StatusCode);
            }

            var outcome = ForwardOutcome.Failed;
            var ticket = slot.Ticket;
            try
            {
                // A request handed ahead may wait for its worker up to the queue timeout (then it is taken back) before
                // its own request timeout starts: its worker's silence is measured from the send.
                var timeout = ticket is null ? route.RequestTimeout : route.RequestTimeout + route.Pool.Dispatcher.QueueTimeout;
                var hop = await WorkerForwarder.ForwardAsync(context, worker, ticket, timeout);
                if (hop.Error != HopError.None && ticket is not null && NeverStarted(ticket))
                {
                    // Taken back for a free worker, at its queue deadline, or just now after this worker failed or
                    // stayed silent before reaching it: it goes again, whatever its method (a few times at most).
                    outcome = ForwardOutcome.TakenBack;
                    moved = ticket.MovedTo is { } to ? new AcquireResult(to, AcquireFailure.None) : null;
                    if (moved is null && !ticket.Expired)
                    {
                        if (hop.Error == HopError.NotSent)
                        {
                            route.Pool.ReportUnreachable(worker);
                        }

                        if (++resentAfterFailure > MaxResendsAfterFailure)
                        {
                            outcome = ForwardOutcome.NeverRan;
                            route.Metrics.RecordRejected(RejectReason.WorkerLost);
                            LogForwardFailed(route.Pool.App.Name, worker.Id, worker.Pid, hop.Error, Describe(hop.Exception));
                            await AnswerOrCutAsync(context, pages.BadGatewayAsync);
                        }
                    }
                }
                else
                {
                    outcome = await ClassifyAsync(context, route.Pool, worker, hop, retried);
                    // Report before the slot is released: a free slot on a hung or dead worker would otherwise go
                    // straight to the next queued request.
                    if (outcome == ForwardOutcome.WorkerSilent)
                    {
                        route.Pool.ReportRequestTimeout(worker);
                    }
                    else if (outcome == ForwardOutcome.RetryElsewhere)
                    {
                        route.Pool.ReportUnreachable(worker);
                    }

                    if (outcome != ForwardOutcome.Done && outcome != ForwardOutcome.RetryElsewhere)
                    {
                        await AnswerFailureAsync(context, route, worker, hop, outcome, timeout);
                    }
                }
            }
            finally
            {
                if (outcome is ForwardOutcome.TakenBack or ForwardOutcome.NeverRan)
                {
                    route.Pool.Dispatcher.Release(worker, ticket, served: false);
                }
                else if (outcome == ForwardOutcome.ClientGone)
                {
                    // The client left, but the worker may still be running its request: keep the slot until the
                    // worker is free, so no second request is sent to a busy single-threaded worker.
                    _ = ReleaseWhenFreeAsync(route, worker, ticket);
                }
                else
                {
                    route.Pool.Dispatcher.Release(worker, ticket);
                }

                if (outcome != ForwardOutcome.TakenBack && ticket is { IsTakenBack: true, MovedTo: { } unclaimed })
                {
                    // Taken back for a free worker while this request left by an exception: give that thread back.
                    route.Pool.Dispatcher.Release(unclaimed, served: false);
                }
            }

            if (outcome == ForwardOutcome.TakenBack)
            {
                if (ticket!.Expired && !context.RequestAborted.IsCancellationRequested)
                {
                    await RejectAsync(context, route, AcquireFailure.QueueTimeout);
                    return new(route, ResponseOrigin.Host, context.Response.StatusCode);
                }

                if (!context.RequestAborted.IsCancellationRequested)
                {
                    continue;
                }

                if (moved is { Worker: { } unused })
                {
                    route.Pool.Dispatcher.Release(unused, served: false);
                }

                context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                return new(route, ResponseOrigin.Host, context.Response.StatusCode);
            }

            if (outcome != ForwardOutcome.RetryElsewhere)
            {
                return outcome switch
                {
                    ForwardOutcome.Done => new(route, ResponseOrigin.App, context.Response.StatusCode),
                    // A response that broke off after it started still counts as the platform's failure.
                    ForwardOutcome.WorkerSilent => new(route, ResponseOrigin.Host, StatusCodes.Status504GatewayTimeout),
                    ForwardOutcome.Failed or ForwardOutcome.NeverRan => new(route, ResponseOrigin.Host, StatusCodes.Status502BadGateway),
                    _ => new(route, ResponseOrigin.Host, context.Response.StatusCode),
                };
            }

            LogRetrying(route.Pool.App.Name, worker.Id);
            retried = true;
            context.Response.StatusCode = StatusCodes.Status200OK;
        }
    }

    /// <summary>
    /// Whether the worker never started a request handed ahead to it, after its hop failed: taken back already (for a
    /// free worker, or at its queue deadline), or taken back now. Always settles the ticket, so nothing can take it
    /// back once this request has moved on.
    /// </summary>
    private static bool NeverStarted(PrefetchTicket ticket) => ticket.IsTakenBack || ticket.TryTakeBack(null) || ticket.IsTakenBack;

    private async Task ReleaseWhenFreeAsync(AppRoute route, Worker worker, PrefetchTicket? ticket)
    {
        try
        {
            // The probe is answered in turn, so behind any requests handed ahead to the worker as well: each of them may
            // take up to the request timeout.
            var patience = route.RequestTimeout * (1 + (worker.Tickets is null ? 0 : worker.Prefetch));
            if (!await WorkerProbe.WaitUntilFreeAsync(worker, patience))
            {
                LogAbandonedRequestHung(route.Pool.App.Name, worker.Id, worker.Pid);
                route.Pool.ReportRequestTimeout(worker);
            }
        }
        catch (Exception)
        {
            // The worker died or its client is gone: its exit is handled by the pool.
        }
        finally
        {
            route.Pool.Dispatcher.Release(worker, ticket);
        }
    }

    private enum ForwardOutcome
    {
        Done,
        TakenBack,
        NeverRan,
        ClientGone,
        WorkerSilent,
        RetryElsewhere,
        Failed,
    }

    private static async ValueTask<ForwardOutcome> ClassifyAsync(HttpContext context, AppPool pool, Worker worker, HopResult hop, bool retried) => hop.Error switch
    {
        HopError.None => ForwardOutcome.Done,
        HopError.WorkerSilent => ForwardOutcome.WorkerSilent,
        HopError.ClientGone => ForwardOutcome.ClientGone,
        _ when context.RequestAborted.IsCancellationRequested => ForwardOutcome.ClientGone,
        HopError.NotSent or HopError.NoResponse when !retried && await MayRetryAsync(context, pool, worker, hop.Error) => ForwardOutcome.RetryElsewhere,
        _ => ForwardOutcome.Failed,
    };

    /// <summary>
    /// Whether a failed request may go to a second worker, in the spirit of nginx's default
    /// <c>proxy_next_upstream error</c>: only after a connection-level failure before any response, and only
    /// when the first worker is out of the picture. A request that never reached the worker (its socket refused
    /// the connection, or it had exited) goes again whatever its method: its body is buffered. A connection that
    /// broke before any answer may have run the request before the worker died, so only a safe method (GET,
    /// HEAD, OPTIONS) is resent, and only when the worker's process is dead; a live worker that sent nothing
    /// readable keeps serving and this request gets 502.
    /// </summary>
    private static async ValueTask<bool> MayRetryAsync(HttpContext context, AppPool pool, Worker worker, HopError error)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }

        if (error == HopError.NotSent)
        {
            return true;
        }

        var method = context.Request.Method;
        return (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) && await IsDeadAsync(pool, worker);
    }

    /// <summary>
    /// Whether the worker's process is gone. A process being killed closes its sockets before the kernel marks
    /// it exited, so a connection can fail while the process still looks alive for a moment: on this failure
    /// path only, give its exit a short, bounded time to show.
    /// </summary>
    private static async ValueTask<bool> IsDeadAsync(AppPool pool, Worker worker)
    {
        if (!pool.IsRunning(worker))
        {
            return true;
        }

        try
        {
            await worker.Exited.WaitAsync(DyingProcessGrace);
            return true;
        }
        catch (TimeoutException)
        {
            return !pool.IsRunning(worker);
        }
    }

    private async Task AnswerFailureAsync(HttpContext context, AppRoute route, Worker worker, HopResult hop, ForwardOutcome outcome, TimeSpan timeout)
    {
        switch (outcome)
        {
            case ForwardOutcome.ClientGone:
                if (!context.Response.HasStarted)
                {
                    context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                }

                return;
            case ForwardOutcome.WorkerSilent:
                route.Metrics.RecordRejected(RejectReason.RequestTimeout);
                LogTimedOut(route.Pool.App.Name, worker.Id, worker.Pid, timeout.TotalSeconds, context.Request.Method, context.Request.Path.Value);
                await AnswerOrCutAsync(context, pages.TimeoutAsync);
                return;
            default:
                route.Metrics.RecordRejected(RejectReason.WorkerLost);
                LogForwardFailed(route.Pool.App.Name, worker.Id, worker.Pid, hop.Error, Describe(hop.Exception));
                await AnswerOrCutAsync(context, pages.BadGatewayAsync);
                return;
        }
    }

    /// <summary>
    /// The host's own page while nothing of the worker's answer has gone out; once it has, the only honest
    /// signal left is to cut the client's connection (a complete-looking response would hide the loss).
    /// </summary>
    private static Task AnswerOrCutAsync(HttpContext context, Func<HttpContext, Task> page)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        return page(context);
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
                context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                return Task.CompletedTask;
        }
    }

    private static string? Describe(Exception? exception)
    {
        var messages = new List<string>();
        for (; exception is not null; exception = exception.InnerException)
        {
            messages.Add(exception.Message);
        }

        return messages.Count == 0 ? null : string.Join(" → ", messages);
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "App {App}: the connection to worker {WorkerId} failed before any response (it just died); retrying on another worker")]
    private partial void LogRetrying(string app, string workerId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "App {App}: worker {WorkerId} (pid {Pid}) went silent on {Method} {Path} for {TimeoutSeconds} s; answered 504 (or cut the response) and replace the worker")]
    private partial void LogTimedOut(string app, string workerId, int pid, double timeoutSeconds, string method, string? path);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "App {App}: worker {WorkerId} (pid {Pid}) was still busy with a request its client gave up on after the request timeout; replacing it")]
    private partial void LogAbandonedRequestHung(string app, string workerId, int pid);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "App {App}: forwarding to worker {WorkerId} (pid {Pid}) failed ({Error}): {Reason}")]
    private partial void LogForwardFailed(string app, string workerId, int pid, HopError error, string? reason);
}
