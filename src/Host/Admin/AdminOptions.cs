namespace PyPE.Host.Admin;

/// <summary>The admin listener (<c>PyPE:Admin</c>): metrics, status and the admin API.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "PyPE:Admin";

    /// <summary><c>Urls</c>: semicolon-separated listen addresses. Default <c>http://127.0.0.1:9180</c> (loopback only).</summary>
    public string Urls { get; set; } = "http://127.0.0.1:9180";
}
