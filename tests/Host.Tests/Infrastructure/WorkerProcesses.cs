using System.Globalization;
using PyPE.Supervisor.Processes;

namespace PyPE.Host.Tests.Infrastructure;

/// <summary>Finds worker processes by the runtime directory in their environment (PYPE_SOCKET), as root can.</summary>
internal static class WorkerProcesses
{
    public static List<int> Under(string runtimeDirectory)
    {
        var marker = "PYPE_SOCKET=" + runtimeDirectory + "/";
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var environ = File.ReadAllText(Path.Combine(dir, "environ"));
                if (environ.Contains(marker, StringComparison.Ordinal) && IsAlive(pid))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>The host's own check: the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => ProcessSignals.IsAlive(pid);
}
