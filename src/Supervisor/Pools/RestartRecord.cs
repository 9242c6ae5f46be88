namespace PyPE.Supervisor.Pools;

/// <summary>One worker replacement, kept for the status page.</summary>
public sealed record RestartRecord(DateTimeOffset At, string WorkerId, int Pid, string Reason, string? Detail);
