using System.Globalization;

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
                if (environ.Contains(marker, StringComparison.Ordinal) && !IsZombie(dir))
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

    public static bool IsAlive(int pid)
    {
        var dir = "/proc/" + pid.ToString(CultureInfo.InvariantCulture);
        return Directory.Exists(dir) && !IsZombie(dir);
    }

    private static bool IsZombie(string procDir)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(procDir, "stat"));
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X';
        }
        catch (IOException)
        {
            return true;
        }
    }
}
