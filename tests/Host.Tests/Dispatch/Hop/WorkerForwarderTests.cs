using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using PyPE.Host.Dispatch.Hop;
using PyPE.Host.Tests.Infrastructure;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Workers;

namespace PyPE.Host.Tests.Dispatch.Hop;

/// <summary>The hop to a worker against answers a real shim rarely or never sends, on a real Unix socket.</summary>
public sealed class WorkerForwarderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static DefaultHttpContext Context(string method = "GET", string path = "/x", byte[]? body = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("portal.example");
        context.Request.Path = path;
        context.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.7");
        if (body is not null)
        {
            context.Request.Body = new MemoryStream(body);
            context.Request.ContentLength = body.Length;
        }

        var sink = new MemoryStream();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(sink));
        context.Items["sink"] = sink;
        return context;
    }

    /// <summary>Forwards one request (a GET unless told) and asserts that the hop went through.</summary>
    private static async Task<DefaultHttpContext> ForwardOkAsync(ScriptedWorker worker, string method = "GET")
    {
        var context = Context(method);
        Assert.Equal(HopError.None, (await WorkerForwarder.ForwardAsync(context, worker.Worker, null, Timeout)).Error);
        return context;
    }

    private static string Body(HttpContext context) => Encoding.Latin1.GetString(((MemoryStream)context.Items["sink"]!).ToArray());

    private static Func<System.Net.Sockets.Socket, string, Task> Answer(params string[] pieces) => async (socket, _) =>
    {
        foreach (var piece in pieces)
        {
            await ScriptedWorker.SendAsync(socket, piece);
        }
    };

    [Fact(Timeout = 30_000)]
    public async Task TheRequestHead_CarriesTheHostsForwardingHeaders_AndNoHopByHopOnes()
    {
        await using var worker = new ScriptedWorker(Answer("HTTP/1.1 204 No Content\r\n\r\n"));
        var context = Context("POST", "/a b", body: "hello"u8.ToArray());
        context.Request.QueryString = new QueryString("?q=1");
        context.Request.Headers["Connection"] = "keep-alive, X-Private";
        context.Request.Headers["X-Private"] = "secret";
        context.Request.Headers["X-Forwarded-For"] = "203.0.113.9";
        context.Request.Headers["Expect"] = "100-continue";
        context.Request.Headers["X-Kept"] = "yes";
        context.Request.Headers["Host"] = "portal.example";

        var result = await WorkerForwarder.ForwardAsync(context, worker.Worker, null, Timeout);

        Assert.Equal(HopError.None, result.Error);
        var request = Assert.Single(worker.Requests);
        Assert.StartsWith("POST /a%20b?q=1 HTTP/1.1\r\n", request);
        Assert.Contains("\r\nX-Kept: yes\r\n", request);
        Assert.Contains("\r\nHost: portal.example\r\n", request);
        Assert.Contains("\r\nX-Forwarded-For: 192.0.2.7\r\n", request);
        Assert.Contains("\r\nX-Forwarded-Proto: http\r\n", request);
        Assert.Contains("\r\nContent-Length: 5\r\n", request);
        Assert.EndsWith("\r\n\r\nhello", request);
        Assert.DoesNotContain("203.0.113.9", request);
        Assert.DoesNotContain("X-Private", request);
        Assert.DoesNotContain("Expect", request);
        Assert.DoesNotContain("Connection", request);
    }

    [Fact(Timeout = 30_000)]
    public async Task AnAnswerArrivingByteByByte_IsCopiedWhole_AndTheConnectionReused()
    {
        var answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 11\r\n\r\nhello world";
        await using var worker = new ScriptedWorker(Answer([.. answer.Select(c => c.ToString())]));

        for (var i = 0; i < 3; i++)
        {
            var context = await ForwardOkAsync(worker);
            Assert.Equal(200, context.Response.StatusCode);
            Assert.Equal("hello world", Body(context));
            Assert.Equal(11, context.Response.ContentLength);
            Assert.Equal(new[] { "a=1", "b=2" }, context.Response.Headers.SetCookie.ToArray());
        }

        Assert.Equal(1, worker.Connections);
    }

    [Fact(Timeout = 30_000)]
    public async Task AChunkedAnswer_IsDechunked_WithExtensionsAndTrailersSkipped()
    {
        await using var worker = new ScriptedWorker(Answer(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n",
            "5;name=value\r\nhello\r\n", "1", "\r\n \r\n", "6\r\nworld!\r\n0\r\nX-Sum: 1\r\n\r\n"));

        var context = await ForwardOkAsync(worker);
        Assert.Equal("hello world!", Body(context));
        Assert.False(context.Response.Headers.ContainsKey("Transfer-Encoding"));
        Assert.False(context.Response.Headers.ContainsKey("Trailer"));
        Assert.Null(context.Response.ContentLength);

        var again = await ForwardOkAsync(worker);
        Assert.Equal(1, worker.Connections);
    }

    [Fact(Timeout = 30_000)]
    public async Task ARequestTakenBackAsItGoesOut_IsNotSent_AndItsConnectionIsKept()
    {
        await using var worker = new ScriptedWorker(Answer("HTTP/1.1 204 No Content\r\n\r\n"), prefetch: 1);
        await ForwardOkAsync(worker); // a pooled connection to the worker
        var other = new Worker("hop-2", "hop", "/nonexistent.sock", capacity: 1, recycleAfterRequests: 0, TimeProvider.System);
        Assert.True(worker.Worker.TryMove(WorkerState.Ready));
        Assert.True(other.TryMove(WorkerState.Ready));
        var dispatcher = new WorkerDispatcher(10, TimeSpan.FromSeconds(30), TimeProvider.System);
        dispatcher.Add(worker.Worker);
        dispatcher.Add(other);
        await dispatcher.AcquireAsync(CancellationToken.None);
        await dispatcher.AcquireAsync(CancellationToken.None);
        var ahead = await dispatcher.AcquireAsync(CancellationToken.None);
        Assert.Same(worker.Worker, ahead.Worker);
        dispatcher.Release(other); // its thread frees before the request handed ahead goes out

        var result = await WorkerForwarder.ForwardAsync(Context(), worker.Worker, ahead.Ticket!, Timeout);

        Assert.Equal(HopError.NotSent, result.Error);
        Assert.True(ahead.Ticket!.IsTakenBack);
        Assert.Same(other, ahead.Ticket.MovedTo);
        Assert.Single(worker.Requests);
        await ForwardOkAsync(worker);
        Assert.Equal(1, worker.Connections);
    }

    [Fact(Timeout = 30_000)]
    public async Task AnInterimAnswer_IsSkipped_AndItsHeadersNotCopied()
    {
        await using var worker = new ScriptedWorker(Answer(
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
            "HTTP/1.1 201 Made Here\r\nContent-Length: 2\r\n\r\nok"));

        var context = await ForwardOkAsync(worker);
        Assert.Equal(201, context.Response.StatusCode);
        Assert.Equal("Made Here", context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase);
        Assert.False(context.Response.Headers.ContainsKey("Link"));
        Assert.Equal("ok", Body(context));
    }

    [Fact(Timeout = 30_000)]
    public async Task AnAnswerWithoutLength_RunsUntilClose_AndTheConnectionIsNotReused()
    {
        await using var worker = new ScriptedWorker(async (socket, _) =>
        {
            await ScriptedWorker.SendAsync(socket, "HTTP/1.0 200 OK\r\n\r\nall of it");
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        });

        for (var i = 0; i < 2; i++)
        {
            var context = await ForwardOkAsync(worker);
            Assert.Equal("all of it", Body(context));
        }

        Assert.Equal(2, worker.Connections);
    }

    [Fact(Timeout = 30_000)]
    public async Task AnIdleConnectionTheWorkerClosed_IsReplaced_AndTheNextRequestSucceeds()
    {
        // Returned a moment ago, the closed connection is tried (no poll): the send fails, and the hop sends again
        // on a new connection (WorkerConnectionPoolTests has the poll for connections idle longer).
        await using var worker = new ScriptedWorker(async (socket, _) =>
        {
            await ScriptedWorker.SendAsync(socket, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        });
        for (var i = 0; i < 3; i++)
        {
            var context = await ForwardOkAsync(worker);
            Assert.Equal("x", Body(context));
        }

        Assert.Equal(3, worker.Connections);
    }

    [Fact(Timeout = 30_000)]
    public async Task ConnectionClose_FromTheWorker_IsNotReused()
    {
        await using var worker = new ScriptedWorker(Answer("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"));
        for (var i = 0; i < 2; i++)
        {
            await ForwardOkAsync(worker);
        }

        Assert.Equal(2, worker.Connections);
    }

    [Fact(Timeout = 30_000)]
    public async Task HeadAnswer_KeepsItsLength_AndReadsNoBody()
    {
        await using var worker = new ScriptedWorker(Answer("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"));
        for (var i = 0; i < 2; i++)
        {
            var context = await ForwardOkAsync(worker, "HEAD");
            Assert.Equal(1234, context.Response.ContentLength);
            Assert.Equal("", Body(context));
        }

        Assert.Equal(1, worker.Connections);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("HTTP/1.1 OK\r\n\r\n")]
    [InlineData("HTTP/2 200 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nBroken header\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")]
    public async Task AnUnreadableAnswer_IsInvalid_AndLeavesNoHeaderBehind(string answer)
    {
        await using var worker = new ScriptedWorker(Answer(answer));
        var context = Context();

        var result = await WorkerForwarder.ForwardAsync(context, worker.Worker, null, Timeout);

        Assert.Equal(HopError.InvalidResponse, result.Error);
        Assert.IsType<InvalidDataException>(result.Exception);
        if (!context.Response.HasStarted && Body(context).Length == 0)
        {
            Assert.Empty(context.Response.Headers);
            Assert.Equal(200, context.Response.StatusCode);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task AHeadLargerThan64KiB_IsInvalid()
    {
        var huge = "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Range(0, 2000).Select(i => $"X-Filler-{i}: {new string('f', 40)}\r\n")) + "\r\n";
        await using var worker = new ScriptedWorker(Answer(huge));

        var result = await WorkerForwarder.ForwardAsync(Context(), worker.Worker, null, Timeout);

        Assert.Equal(HopError.InvalidResponse, result.Error);
        Assert.Contains("64 KiB", result.Exception!.Message);
    }

    [Fact(Timeout = 30_000)]
    public async Task AWorkerClosingMidBody_BrokeOff()
    {
        await using var worker = new ScriptedWorker(async (socket, _) =>
        {
            await ScriptedWorker.SendAsync(socket, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        });
        var context = Context();

        var result = await WorkerForwarder.ForwardAsync(context, worker.Worker, null, Timeout);

        Assert.Equal(HopError.BrokenOff, result.Error);
        Assert.Equal("only part", Body(context));
    }

    [Fact(Timeout = 30_000)]
    public async Task AWorkerClosingWithoutAnswering_GaveNoResponse()
    {
        await using var worker = new ScriptedWorker((socket, _) =>
        {
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            return Task.CompletedTask;
        });

        Assert.Equal(HopError.NoResponse, (await WorkerForwarder.ForwardAsync(Context(), worker.Worker, null, Timeout)).Error);
    }

    [Fact(Timeout = 30_000)]
    public async Task ASilentWorker_IsGivenUpOn_AfterTheActivityTimeout()
    {
        await using var worker = new ScriptedWorker(Answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"));

        var result = await WorkerForwarder.ForwardAsync(Context(), worker.Worker, null, TimeSpan.FromMilliseconds(300));

        Assert.Equal(HopError.WorkerSilent, result.Error);
    }

    [Fact(Timeout = 30_000)]
    public async Task ASlowClient_DoesNotMakeAWorkingWorkerLookSilent()
    {
        await using var worker = new ScriptedWorker(async (socket, _) =>
        {
            await ScriptedWorker.SendAsync(socket, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
            await Task.Delay(50);
            await ScriptedWorker.SendAsync(socket, "cd");
        });
        var context = Context();
        var slow = new SlowStream(TimeSpan.FromMilliseconds(400));
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(slow));

        // Each write to the client takes longer than the worker may stay silent; the worker itself never is.
        var result = await WorkerForwarder.ForwardAsync(context, worker.Worker, null, TimeSpan.FromMilliseconds(200));

        Assert.Equal(HopError.None, result.Error);
        Assert.Equal("abcd", Encoding.Latin1.GetString(slow.ToArray()));
    }

    /// <summary>A client that takes its time over every write.</summary>
    private sealed class SlowStream(TimeSpan delay) : MemoryStream
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(delay, cancellationToken);
            await base.WriteAsync(buffer, cancellationToken);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task AClientLeaving_IsToldApartFromASilentWorker()
    {
        await using var worker = new ScriptedWorker(Answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"));
        var context = Context();
        using var client = new CancellationTokenSource();
        context.RequestAborted = client.Token;

        var forwarding = WorkerForwarder.ForwardAsync(context, worker.Worker, null, Timeout);
        await Wait.UntilAsync(() => worker.Requests.Count == 1, Timeout, "the worker got the request");
        await client.CancelAsync();

        Assert.Equal(HopError.ClientGone, (await forwarding).Error);
    }

    [Fact(Timeout = 30_000)]
    public async Task AWorkerThatIsGone_NeverGotTheRequest()
    {
        var worker = new ScriptedWorker(Answer("HTTP/1.1 204 No Content\r\n\r\n"));
        var gone = worker.Worker;
        await worker.DisposeAsync();

        var result = await WorkerForwarder.ForwardAsync(Context(), gone, null, Timeout);

        Assert.Equal(HopError.NotSent, result.Error);
    }

    [Fact(Timeout = 30_000)]
    public async Task ASocketFileThatIsGone_NeverGotTheRequest()
    {
        var worker = new PyPE.Supervisor.Workers.Worker("hop-2", "hop", "/nonexistent/pype-hop.sock", 1, 0, TimeProvider.System);
        using var pool = new PyPE.Supervisor.Workers.WorkerConnectionPool(worker);
        worker.Connections = pool;

        var result = await WorkerForwarder.ForwardAsync(Context(), worker, null, Timeout);

        Assert.Equal(HopError.NotSent, result.Error);
        Assert.IsType<System.Net.Sockets.SocketException>(result.Exception);
    }
}
