using System.Runtime.CompilerServices;

namespace PyPE.Supervisor.Tests.TestSupport;

/// <summary>The one place tests poll: for conditions that a background loop makes true with no event to await.</summary>
internal static class Waiting
{
    /// <summary>Re-checks <paramref name="condition"/> every few milliseconds until it holds; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, [CallerArgumentExpression(nameof(condition))] string? description = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not true within {timeout.TotalSeconds} s: {description}");
            }

            await Task.Delay(5);
        }
    }
}
