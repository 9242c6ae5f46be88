namespace PyPE.Supervisor;

/// <summary>
/// Host-wide settings, bound from the <c>PyPE</c> configuration section.
/// Platform versions (<c>PyPE:Runtimes</c>) are read separately by <see cref="Runtimes.RuntimeCatalogLoader"/>.
/// </summary>
public sealed class PyPEOptions
{
    public const string SectionName = "PyPE";

    /// <summary>Folder with one <c>&lt;app-name&gt;.json</c> file per app; watched for changes. Default: the bundled samples.</summary>
    public string? AppsDirectory { get; set; }

    /// <summary>TEST, QUAL, BETA or PROD; passed to apps (<c>PYPE_ENVIRONMENT</c>) and put on metrics. Default: TEST.</summary>
    public string Environment { get; set; } = "TEST";

    /// <summary>
    /// Folder for the workers' Unix sockets. Default: systemd's <c>$RUNTIME_DIRECTORY</c> when set,
    /// else <c>/tmp/pype-exec-&lt;host pid&gt;</c>. Kept short: a socket path may not exceed 107 bytes.
    /// </summary>
    public string? RuntimeDirectory { get; set; }

    /// <summary>Also register every CPython found under the pyenv versions folder (<c>$PYENV_ROOT</c> or <c>~/.pyenv</c>). Default: true.</summary>
    public bool DiscoverPyenvRuntimes { get; set; } = true;

    public static readonly string[] AllowedEnvironments = ["TEST", "QUAL", "BETA", "PROD"];
}
