namespace PyPE.Supervisor.Apps;

/// <summary>
/// How an app's worker pool behaves. Each property is a key of the app file's <c>pool</c> object;
/// durations are given there in seconds (keys end in <c>Seconds</c>), sizes in bytes (keys end in <c>Bytes</c>).
/// </summary>
public sealed record PoolSettings
{
    /// <summary><c>minWorkers</c>: workers kept running even when idle. Default 1; 0 starts workers on the first request.</summary>
    public int MinWorkers { get; init; } = 1;

    /// <summary><c>maxWorkers</c>: upper bound of workers started on demand when requests wait. Default 4.</summary>
    public int MaxWorkers { get; init; } = 4;

    /// <summary><c>maxQueue</c>: requests that may wait for a free worker; one more gets 503 + Retry-After. Default 100.</summary>
    public int MaxQueue { get; init; } = 100;

    /// <summary><c>queueTimeoutSeconds</c>: longest wait for a free worker before 503. Default 30 s.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>requestTimeoutSeconds</c>: longest a worker may take to answer; then 504, a stack dump, and a new worker. Default 60 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>maxRequests</c>: recycle a worker after this many requests (0 = never). Default 0.</summary>
    public int MaxRequests { get; init; }

    /// <summary><c>maxRequestsJitter</c>: random extra requests (0..n) per worker so workers do not recycle together. Default 0.</summary>
    public int MaxRequestsJitter { get; init; }

    /// <summary><c>memoryLimitBytes</c>: recycle a worker whose resident memory exceeds this (0 = no limit). Default 0.</summary>
    public long MemoryLimitBytes { get; init; }

    /// <summary>
    /// <c>growAfterSeconds</c>: how long a request must have waited in the queue before the pool starts another
    /// worker for it. A worker's start costs about a second of a core (the app's import), taken from the workers
    /// serving; a queue that clears sooner does not pay it. A full queue grows the pool at once, and a pool with no
    /// worker starts one at once. Default 0: at once.
    /// </summary>
    public TimeSpan GrowAfter { get; init; }

    /// <summary><c>idleTimeoutSeconds</c>: stop a worker above <c>minWorkers</c> that served nothing for this long. Default 300 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary><c>threads</c>: requests one worker serves at once (its thread count). Default 1.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// <c>prefetch</c>: requests handed to a worker whose threads are all busy, when every worker's are, so it starts
    /// the next one the moment it finishes instead of waiting for the host to send it. One that has not started is
    /// taken back as soon as another worker has a free thread, or answered 503 after <c>queueTimeoutSeconds</c>.
    /// Default 0: a request goes out only to a free thread.
    /// </summary>
    public int Prefetch { get; init; }

    /// <summary><c>startTimeoutSeconds</c>: longest a worker may take to import the app and report ready. Default 60 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>stopTimeoutSeconds</c>: grace between SIGTERM and SIGKILL when a worker stops. Default 30 s.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>maxRequestBodyBytes</c>: largest request body buffered (in memory) for the app; larger gets 413. Default 10 MiB, at most 1 GiB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 10 * 1024 * 1024;
}
