using System.Runtime.InteropServices;

namespace PyPE.Supervisor.Processes;

/// <summary>
/// The small native seam for what <see cref="System.Diagnostics.Process"/> cannot do: signal a process group.
/// Workers make themselves group leaders (<c>setpgrp</c>) first thing, so the group id is the worker's pid
/// and a signal to the group also reaches whatever the app spawned.
/// </summary>
public static partial class ProcessSignals
{
    public const int SIGKILL = 9;
    public const int SIGUSR1 = 10;
    public const int SIGTERM = 15;

    private const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>
    /// Sends <paramref name="signal"/> to the process group led by <paramref name="pid"/>, falling back to the
    /// process alone when the group does not exist yet (the worker has not run <c>setpgrp</c>).
    /// Returns false when neither exists any more.
    /// </summary>
    public static bool SignalGroup(int pid, int signal)
    {
        if (pid <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(pid), pid, "refusing to signal init or every process");
        }

        if (Kill(-pid, signal) == 0)
        {
            return true;
        }

        return SignalProcess(pid, signal);
    }

    /// <summary>Sends <paramref name="signal"/> to one process. Returns false when it no longer exists.</summary>
    public static bool SignalProcess(int pid, int signal)
    {
        if (pid <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(pid), pid, "refusing to signal init or every process");
        }

        if (Kill(pid, signal) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno != ESRCH ? throw new InvalidOperationException($"kill({pid}, {signal}) failed with errno {errno}") : false;
    }

    /// <summary>True when a process with this id exists (signal 0 probes without sending anything).</summary>
    public static bool Exists(int pid) => pid > 1 && (Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != ESRCH);

    /// <summary>True when the process exists and has not exited (a zombie waiting to be reaped counts as exited).</summary>
    public static bool IsAlive(int pid)
    {
        if (!Exists(pid))
        {
            return false;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}/stat");
            var close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
