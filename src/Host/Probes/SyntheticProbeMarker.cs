using System.Security.Cryptography;

namespace PyPE.Host.Probes;

/// <summary>
/// Tells the host's own synthetic probes from real traffic: they carry a header with a secret made at start-up,
/// so a client cannot hide its requests from the request metrics by sending the header. Probes are counted
/// in their own SLI and metrics, not as requests.
/// </summary>
internal sealed class SyntheticProbeMarker
{
    public const string HeaderName = "X-PyPE-Synthetic";

    public string Token { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Whether <paramref name="request"/> is one of our probes; if so the header is removed so the app never sees the secret.</summary>
    public bool TakeMark(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(HeaderName, out var value) || value.Count != 1 || !string.Equals(value[0], Token, StringComparison.Ordinal))
        {
            return false;
        }

        request.Headers.Remove(HeaderName);
        return true;
    }
}
