namespace PyPE.Host.Metrics;

/// <summary>The <c>reason</c> label of <c>pype_requests_rejected_total</c>.</summary>
internal enum RejectReason
{
    QueueFull = 0,
    QueueTimeout = 1,
    RequestTimeout = 2,
    BodyTooLarge = 3,
    AppFailed = 4,
    Stopping = 5,
    WorkerLost = 6,
}
