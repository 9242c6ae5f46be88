namespace PyPE.Supervisor.Workers;

/// <summary>Where the worker shim (<c>pype_worker.py</c>) is: shipped beside the host's assemblies.</summary>
public static class ShimLocation
{
    public static string Path { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "Shim", "pype_worker.py");
}
