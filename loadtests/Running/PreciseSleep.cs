using System.Runtime.InteropServices;

namespace PyPE.LoadTests.Running;

/// <summary>
/// Blocks the calling thread for a sub-millisecond wait without spinning. Thread.Sleep and Task.Delay work in
/// whole milliseconds (the timer queue adds up to one more), which at 1,000 requests/s is the whole gap between
/// two requests; waiting by yielding in a loop instead kept a core busy and took it from the server under test.
/// On Linux nanosleep(2) wakes within the thread's timer slack (50 µs by default).
/// </summary>
internal static partial class PreciseSleep
{
    private const int EIntr = 4;

    private static volatile bool s_nanoSleepFailed;

    public static void For(TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero)
        {
            return;
        }

        if (OperatingSystem.IsLinux() && !s_nanoSleepFailed)
        {
            var request = new Timespec { Seconds = (nint)(wait.Ticks / TimeSpan.TicksPerSecond), Nanoseconds = (nint)(wait.Ticks % TimeSpan.TicksPerSecond * 100) };
            // An interrupted sleep (EINTR) returns early: the caller looks at the clock again either way. Any other
            // failure (a sandbox that refuses the call) would return at once every time and turn the schedule into a
            // busy loop: fall back to millisecond sleeps for good.
            if (NanoSleep(request, 0) != 0 && Marshal.GetLastSystemError() != EIntr)
            {
                s_nanoSleepFailed = true;
            }

            return;
        }

        Thread.Sleep((int)Math.Ceiling(wait.TotalMilliseconds));
    }

    /// <summary>Lets the calling thread's sleeps end within a microsecond of their time instead of Linux's default 50 µs slack.</summary>
    public static void TightenCurrentThread()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = Prctl(PrSetTimerSlack, 1000, 0, 0, 0);
        }
    }

    private const int PrSetTimerSlack = 29;

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", EntryPoint = "nanosleep", SetLastError = true)]
    private static partial int NanoSleep(in Timespec request, nint remaining);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public nint Seconds;
        public nint Nanoseconds;
    }
}
