namespace PyPE.Supervisor.Workers;

/// <summary>How a worker process ended.</summary>
/// <param name="ExitCode">The process exit code (128 + n, or -n, when a signal killed it).</param>
/// <param name="Expected">True when the supervisor asked it to stop.</param>
/// <param name="StartupError">The traceback the shim reported when the app failed to import, if it did.</param>
public sealed record WorkerExit(int ExitCode, bool Expected, string? StartupError);
