using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Text;

namespace PyPE.Host.Dispatch;

/// <summary>
/// The host's own answers (404, 413, 502, 503, 504): short HTML pages, rendered once, that say what
/// happened and what to do, and reveal nothing about other apps or the machine.
/// </summary>
internal sealed class ErrorPages
{
    private enum Page
    {
        NotFound,
        BadRequest,
        RequestTimeout,
        TooLarge,
        Busy,
        AppFailed,
        Stopping,
        Timeout,
        BadGateway,
    }

    private readonly FrozenDictionary<Page, (int Status, byte[] Body)> _pages = new Dictionary<Page, (int, byte[])>
    {
        [Page.NotFound] = Render(404, "Not found", "There is nothing at this address."),
        [Page.BadRequest] = Render(400, "Bad request", "The request could not be read."),
        [Page.RequestTimeout] = Render(408, "Request timeout", "The request body arrived too slowly."),
        [Page.TooLarge] = Render(413, "Request too large", "The request body is larger than this application accepts."),
        [Page.Busy] = Render(503, "Busy", "This application is handling as many requests as it can. Please try again in a moment."),
        [Page.AppFailed] = Render(503, "Application unavailable", "This application cannot start right now. Its operators have been told; please try again later."),
        [Page.Stopping] = Render(503, "Restarting", "This application is restarting. Please try again in a moment."),
        [Page.Timeout] = Render(504, "Timed out", "This application took too long to answer. Please try again later."),
        [Page.BadGateway] = Render(502, "Application error", "This application stopped while answering. Please try again."),
    }.ToFrozenDictionary();

    public Task NotFoundAsync(HttpContext context) => WriteAsync(context, Page.NotFound);

    public Task BadRequestAsync(HttpContext context, int status = StatusCodes.Status400BadRequest) =>
        WriteAsync(context, status == StatusCodes.Status408RequestTimeout ? Page.RequestTimeout : Page.BadRequest);

    public Task BodyTooLargeAsync(HttpContext context) => WriteAsync(context, Page.TooLarge);

    public Task BusyAsync(HttpContext context, TimeSpan retryAfter)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return WriteAsync(context, Page.Busy);
    }

    public Task AppFailedAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "30";
        return WriteAsync(context, Page.AppFailed);
    }

    public Task StoppingAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "5";
        return WriteAsync(context, Page.Stopping);
    }

    public Task TimeoutAsync(HttpContext context) => WriteAsync(context, Page.Timeout);

    public Task BadGatewayAsync(HttpContext context) => WriteAsync(context, Page.BadGateway);

    private Task WriteAsync(HttpContext context, Page page)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        var (status, body) = _pages[page];
        response.StatusCode = status;
        response.Headers.CacheControl = "no-store";
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
    }

    private static (int, byte[]) Render(int status, string title, string text)
    {
        var html = string.Create(CultureInfo.InvariantCulture,
            $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} {WebUtility.HtmlEncode(title)}</title></head>"
            + $"<body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>{WebUtility.HtmlEncode(title)}</h1><p>{WebUtility.HtmlEncode(text)}</p>"
            + $"<p style=\"color:#777\">{status} · PyPE.Exec</p></body></html>\n");
        return (status, Encoding.UTF8.GetBytes(html));
    }
}
