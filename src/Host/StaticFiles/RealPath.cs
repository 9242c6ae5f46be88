using System.Runtime.InteropServices;

namespace PyPE.Host.StaticFiles;

/// <summary><c>realpath(3)</c>: .NET has no API that resolves symlinks in every component of a path.</summary>
internal static partial class RealPath
{
    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint NativeRealPath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    public static string? Resolve(string path)
    {
        var result = NativeRealPath(path, 0);
        if (result == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(result);
        }
        finally
        {
            Free(result);
        }
    }
}
