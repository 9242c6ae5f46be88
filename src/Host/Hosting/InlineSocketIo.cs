namespace PyPE.Host.Hosting;

/// <summary>
/// Whether socket I/O is handled inline on the runtime's socket event threads: the socket's completion runs
/// there (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>) and Kestrel continues the request there too
/// (<c>UnsafePreferInlineScheduling</c>), instead of handing each event to a thread-pool thread. Below saturation
/// those hand-offs were most of the host's cost: ~20 context switches per proxied request, inline ~3.5 (BENCHMARKS.md,
/// "Socket I/O inline"). Nothing on a request path may wait on anything but sockets for it (the console log is
/// written by a background thread for that reason). One known exception, as in nginx's event loop: the static
/// file cache's once-a-second <c>stat</c> per file and its read of a small file on a miss (and ASP.NET's static
/// middleware for the requests it gets) touch the file system synchronously — microseconds from the page cache,
/// longer from a cold or network disk. The runtime reads the variable once, when the process makes its first
/// socket, so <see cref="ChooseDefault"/> runs first thing in <c>Program.cs</c>.
/// </summary>
internal static class InlineSocketIo
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static bool Enabled => Environment.GetEnvironmentVariable(Variable) == "1";

    public static void ChooseDefault() => Environment.SetEnvironmentVariable(Variable, Choose(Environment.GetEnvironmentVariable(Variable)));

    /// <summary>On, unless the operator set the variable: then theirs (anything but 1 is off).</summary>
    public static string Choose(string? operatorsValue) => operatorsValue ?? "1";
}
