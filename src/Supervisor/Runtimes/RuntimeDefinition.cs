namespace PyPE.Supervisor.Runtimes;

/// <summary>One platform version: a Python interpreter plus the import paths of its library set.</summary>
public sealed record RuntimeDefinition
{
    /// <summary>The id apps name in their <c>runtime</c> key, e.g. <c>311</c> or <c>system</c>.</summary>
    public required string Id { get; init; }

    /// <summary><c>PyPE:Runtimes:&lt;id&gt;:Python</c>: the interpreter's path.</summary>
    public required string Python { get; init; }

    /// <summary><c>PyPE:Runtimes:&lt;id&gt;:PythonPath</c>: extra import paths, put on the workers' PYTHONPATH in this order.</summary>
    public IReadOnlyList<string> PythonPath { get; init; } = [];

    /// <summary>Interpreter version as <c>major.minor.micro</c>; null until known.</summary>
    public string? Version { get; init; }

    /// <summary>
    /// <c>PyPE:Runtimes:&lt;id&gt;:EndOfSupport</c> (yyyy-mm-dd): when this platform version stops getting security
    /// fixes. Default: CPython's own date for the interpreter's version (<see cref="Runtimes.EndOfSupport"/>).
    /// </summary>
    public DateOnly? EndOfSupport { get; init; }

    /// <summary>Where it was defined: <c>configuration</c>, <c>pyenv</c>, <c>default</c> or <c>alias of &lt;id&gt;</c>.</summary>
    public string Origin { get; init; } = "configuration";

    /// <summary>Why the platform version cannot run workers, or null when it can.</summary>
    public string? Error { get; init; }
}
