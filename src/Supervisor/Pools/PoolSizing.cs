using PyPE.Supervisor.Apps;

namespace PyPE.Supervisor.Pools;

/// <summary>How many workers a pool wants right now; pure arithmetic, kept apart so it can be read and tested alone.</summary>
internal static class PoolSizing
{
    /// <param name="settings">The app's pool settings.</param>
    /// <param name="serving">Ready workers not being replaced.</param>
    /// <param name="recycling">Ready workers waiting for their replacement (max requests, memory).</param>
    /// <param name="queued">Requests waiting for a slot.</param>
    /// <param name="overflowed">Requests were refused with a full queue since the last decision.</param>
    /// <param name="failed">The app is failed: one trial start is wanted whatever the demand.</param>
    public static int Wanted(PoolSettings settings, int serving, int recycling, int queued, bool overflowed, bool failed)
    {
        var threads = settings.Threads;
        var forQueue = queued == 0 ? 0 : serving + ((queued + threads - 1) / threads);
        if (overflowed)
        {
            forQueue = Math.Max(forQueue, serving + 1);
        }

        var wanted = Math.Min(Math.Max(settings.MinWorkers, forQueue), settings.MaxWorkers);
        if (failed)
        {
            // A failed app refuses requests, so no queue asks for workers: the trial start must come from here
            // (also with minWorkers 0).
            wanted = Math.Max(wanted, 1);
        }

        // Replacements for workers being recycled may exceed maxWorkers briefly: the old worker leaves once
        // the new one is ready, so a recycle never shrinks capacity.
        return Math.Max(wanted, recycling + serving);
    }
}
