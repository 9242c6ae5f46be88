namespace PyPE.Host.Tests.Infrastructure;

/// <summary>Waits for a condition observed from outside (process table, status JSON) with a hard deadline.</summary>
internal static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        await UntilAsync(() => Task.FromResult(condition()), timeout, what);
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!await condition())
        {
            try
            {
                // Polling an external observation (there is no event to await for /proc or /status).
                await Task.Delay(50, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting until {what}");
            }
        }
    }
}
