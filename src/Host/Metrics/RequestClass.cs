namespace PyPE.Host.Metrics;

/// <summary>The <c>class</c> label: files the host served itself, or requests a worker answered.</summary>
internal enum RequestClass
{
    Static = 0,
    Dynamic = 1,
}
