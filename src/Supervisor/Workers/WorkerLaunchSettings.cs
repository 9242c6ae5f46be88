namespace PyPE.Supervisor.Workers;

/// <summary>Host-wide values every worker is started with.</summary>
/// <param name="RuntimeDirectory">Folder for worker sockets.</param>
/// <param name="Environment">TEST, QUAL, BETA or PROD.</param>
public sealed record WorkerLaunchSettings(string RuntimeDirectory, string Environment);
