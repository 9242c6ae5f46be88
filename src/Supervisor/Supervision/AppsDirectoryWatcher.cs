namespace PyPE.Supervisor.Supervision;

/// <summary>
/// Watches the apps directory and calls back once per burst of changes (editors write a file in several
/// steps; a short quiet period folds them into one reload).
/// </summary>
internal sealed class AppsDirectoryWatcher : IDisposable
{
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromMilliseconds(300);
    private readonly FileSystemWatcher _watcher;
    private readonly ITimer _debounce;

    public AppsDirectoryWatcher(string directory, Action onChanged, TimeProvider time)
    {
        _debounce = time.CreateTimer(_ => onChanged(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watcher = new FileSystemWatcher(directory, "*.json")
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            IncludeSubdirectories = false,
        };
        _watcher.Changed += (_, _) => Poke();
        _watcher.Created += (_, _) => Poke();
        _watcher.Deleted += (_, _) => Poke();
        _watcher.Renamed += (_, _) => Poke();
        _watcher.Error += (_, _) => Poke();
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Schedules a reload after the quiet period (also used by the admin API and SIGHUP).</summary>
    public void Poke() => _debounce.Change(QuietPeriod, Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        _watcher.Dispose();
        _debounce.Dispose();
    }
}
