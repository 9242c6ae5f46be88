using System.Diagnostics;

namespace PyPE.Host.Tests.Prometheus;

/// <summary>The repository's Prometheus rules and example configuration, checked by promtool.</summary>
public sealed class RulesTests
{
    private static readonly string Folder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "prometheus"));

    [Theory(Timeout = 180_000)]
    [InlineData("check", "rules", "pype-rules.yml")]
    [InlineData("test", "rules", "pype-rules.test.yml")]
    [InlineData("test", "rules", "pype-rules.long.test.yml")]
    [InlineData("check", "config", "prometheus.example.yml")]
    public Task Promtool_Accepts(string verb, string what, string file) => RunAsync("promtool", verb, what, file);

    [Fact(Timeout = 60_000)]
    public Task Amtool_AcceptsTheAlertmanagerExample() => RunAsync("amtool", "check-config", "alertmanager.example.yml");

    private static async Task RunAsync(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', arguments)}: exit {process.ExitCode}\n{await output}\n{await errors}");
    }
}
