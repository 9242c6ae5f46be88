namespace PyPE.Host.Dispatch.Hop;

/// <summary>How forwarding one request to a worker went wrong, in the terms the dispatcher decides on.</summary>
internal enum HopError
{
    None,

    /// <summary>No connection to the worker could be made (refused, socket gone, worker exited): the request never left the host.</summary>
    NotSent,

    /// <summary>The connection failed or closed before the answer began: the worker may or may not have run the request.</summary>
    NoResponse,

    /// <summary>The worker's answer is not valid HTTP/1.x, or carries a header Kestrel may not send.</summary>
    InvalidResponse,

    /// <summary>The worker sent nothing for the whole request timeout (before or during its answer).</summary>
    WorkerSilent,

    /// <summary>The worker's connection broke off in the middle of the answer's body.</summary>
    BrokenOff,

    /// <summary>The client left before its answer was complete.</summary>
    ClientGone,
}

/// <summary>The outcome of one forwarded request, with the exception behind a failure (for the log).</summary>
internal readonly record struct HopResult(HopError Error, Exception? Exception = null)
{
    public static readonly HopResult Done = new(HopError.None);
}
