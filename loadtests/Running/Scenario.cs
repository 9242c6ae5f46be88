namespace PyPE.LoadTests.Running;

/// <summary>What the SLA calls a request class: trivial (static data) or simple (a page load).</summary>
public enum RequestClass
{
    /// <summary>A static file: the SLA's "trivial" requests.</summary>
    Static,

    /// <summary>A page or view answered by a Python worker.</summary>
    Dynamic,
}

/// <summary>One kind of request, sent on its own constant-arrival-rate schedule.</summary>
/// <param name="Name">Shown in reports (e.g. <c>static</c>, <c>json</c>, <c>page</c>).</param>
/// <param name="Class">Which SLA throughput objective it counts toward.</param>
/// <param name="Path">Path and query, relative to the target.</param>
/// <param name="RatePerSecond">Requests started per second.</param>
public sealed record Scenario(string Name, RequestClass Class, string Path, double RatePerSecond);
