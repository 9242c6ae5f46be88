using PyPE.Supervisor.Workers;

namespace PyPE.Host.Dispatch;

/// <summary>
/// Asks a worker whether it is free: the shim answers <c>X-PyPE-Probe</c> itself, without the app, in turn
/// with other requests — so on a single-threaded worker the answer comes once the request in hand is done.
/// </summary>
internal static class WorkerProbe
{
    public const string Header = "X-PyPE-Probe";

    private static readonly Uri Target = new("http://worker/");

    /// <returns>True when the worker answered within <paramref name="timeout"/>; false when it is still busy.</returns>
    public static async Task<bool> WaitUntilFreeAsync(Worker worker, TimeSpan timeout)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Target) { Version = System.Net.HttpVersion.Version11 };
        request.Headers.TryAddWithoutValidation(Header, "1");
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            using var response = await worker.Client!.SendAsync(request, deadline.Token);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return false;
        }
    }
}
