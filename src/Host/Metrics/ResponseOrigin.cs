namespace PyPE.Host.Metrics;

/// <summary>
/// The <c>origin</c> label: who produced the answer. A 5xx with origin <c>host</c> is the platform's failure
/// (rejected, worker dead or hung) and counts against availability; a 5xx with origin <c>app</c> is the app's
/// own error, reported apart.
/// </summary>
internal enum ResponseOrigin
{
    App = 0,
    Host = 1,
}
