namespace PyPE.Supervisor;

/// <summary>Every log event id of the supervisor, in one place so ids stay unique.</summary>
internal static class LogEvents
{
    public const int NotifyReceiveFailed = 1001;
    public const int NotifyUnreadable = 1002;

    public const int WorkerOutput = 1100;
    public const int WorkerErrorOutput = 1101;
    public const int WorkerSpawned = 1102;
    public const int WorkerReady = 1103;
    public const int WorkerStartFailed = 1104;
    public const int WorkerExited = 1105;
    public const int WorkerCrashed = 1106;
    public const int WorkerStopping = 1107;
    public const int WorkerKilled = 1108;
    public const int WorkerStackDump = 1109;
    public const int WorkerStartCancelled = 1110;

    public const int PoolStarted = 1200;
    public const int PoolRecycling = 1201;
    public const int PoolBreakerOpen = 1202;
    public const int PoolBreakerRetry = 1203;
    public const int PoolScaledUp = 1204;
    public const int PoolRetiringIdle = 1205;
    public const int PoolRestartScheduled = 1206;
    public const int PoolStopped = 1207;
    public const int PoolLoopFailed = 1208;
    public const int PoolSignalFailed = 1209;

    public const int CatalogLoaded = 1300;
    public const int CatalogRejectedApp = 1301;
    public const int CatalogReloadFailed = 1302;
    public const int AppAdded = 1303;
    public const int AppRemoved = 1304;
    public const int AppReplaced = 1305;
    public const int AppReplaceFailed = 1306;
    public const int RuntimeUnavailable = 1307;
    public const int RuntimeRegistered = 1308;
    public const int AppRetireFailed = 1309;
}
