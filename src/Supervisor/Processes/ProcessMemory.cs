using System.Globalization;

namespace PyPE.Supervisor.Processes;

/// <summary>Reads a process's resident memory from <c>/proc/&lt;pid&gt;/statm</c> (cheap: one small read).</summary>
public static class ProcessMemory
{
    private static readonly long PageSize = Environment.SystemPageSize;

    /// <summary>Resident set size in bytes, or null when the process is gone.</summary>
    public static long? ResidentBytes(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/statm");
            var fields = text.Split(' ', 3);
            return fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pages)
                ? pages * PageSize
                : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
