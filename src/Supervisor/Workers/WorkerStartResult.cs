namespace PyPE.Supervisor.Workers;

/// <summary>The outcome of starting one worker: ready, or why not (a traceback when the app failed to import).</summary>
public sealed record WorkerStartResult(bool Ready, string? Error)
{
    public static readonly WorkerStartResult Success = new(true, null);

    public static WorkerStartResult Failure(string error) => new(false, error);
}
