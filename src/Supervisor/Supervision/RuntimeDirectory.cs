using System.Globalization;

namespace PyPE.Supervisor.Supervision;

/// <summary>The private folder (mode 0700) holding the notify socket and the workers' sockets.</summary>
internal static class RuntimeDirectory
{
    /// <summary>Longest socket path Linux accepts in <c>sockaddr_un</c>, less room for "w&lt;n&gt;.sock".</summary>
    private const int MaxDirectoryLength = 107 - 16;

    public static string Resolve(string? configured)
    {
        var path = configured;
        if (string.IsNullOrWhiteSpace(path))
        {
            var systemd = Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY");
            path = !string.IsNullOrEmpty(systemd)
                ? Path.Combine(systemd.Split(':')[0], "w" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
                : Path.Combine("/tmp", "pype-exec-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }

        path = Path.GetFullPath(path);
        if (path.Length > MaxDirectoryLength)
        {
            throw new InvalidOperationException($"PyPE:RuntimeDirectory '{path}' is too long for Unix socket paths (at most {MaxDirectoryLength} characters)");
        }

        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    public static void TryRemove(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
