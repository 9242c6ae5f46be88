using System.Diagnostics;

namespace PyPE.Host.Tests.Prometheus;

/// <summary>The repository's Prometheus rules and example configuration, checked by promtool.</summary>
public sealed class RulesTests
{
    private static readonly string Folder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "prometheus"));

    [Theory(Timeout = 60_000)]
    [InlineData("check", "rules", "pype-rules.yml")]
    [InlineData("test", "rules", "pype-rules.test.yml")]
    [InlineData("check", "config", "prometheus.example.yml")]
    public async Task Promtool_Accepts(string verb, string what, string file)
    {
        var start = new ProcessStartInfo("promtool")
        {
            ArgumentList = { verb, what, file },
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"promtool {verb} {what} {file}: exit {process.ExitCode}\n{await output}\n{await errors}");
    }
}
