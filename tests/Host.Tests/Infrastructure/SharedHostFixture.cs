namespace PyPE.Host.Tests.Infrastructure;

/// <summary>One host with the test app at /apps/t (2 workers), shared by the read-only tests of a class.</summary>
public sealed class SharedHostFixture : IAsyncLifetime
{
    internal TestHost Host { get; private set; } = null!;

    internal string StaticDirectory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        StaticDirectory = Directory.CreateTempSubdirectory("pype-static-").FullName;
        await File.WriteAllTextAsync(Path.Combine(StaticDirectory, "site.css"), "body { color: #123456; }\n");
        await File.WriteAllBytesAsync(Path.Combine(StaticDirectory, "data.bin"), [.. Enumerable.Range(0, 10_000).Select(i => (byte)(i % 251))]);
        await File.WriteAllTextAsync(Path.Combine(StaticDirectory, ".secret"), "hidden");
        Directory.CreateDirectory(Path.Combine(StaticDirectory, ".git"));
        await File.WriteAllTextAsync(Path.Combine(StaticDirectory, ".git", "config"), "[core] hidden");
        var outside = Path.Combine(Path.GetDirectoryName(StaticDirectory)!, Path.GetFileName(StaticDirectory) + "-outside.txt");
        await File.WriteAllTextAsync(outside, "outside the static folder");
        File.CreateSymbolicLink(Path.Combine(StaticDirectory, "escape.txt"), outside);

        Host = await TestHost.StartAsync(
        [
            new TestApp("t")
            {
                Pool = new() { ["minWorkers"] = 2, ["maxWorkers"] = 2, ["maxRequestBodyBytes"] = 1_000_000 },
                Static = new() { ["/apps/t/static"] = StaticDirectory },
                Env = new() { ["TESTAPP_GREETING"] = "hi" },
            },
        ]);
        await Host.WaitForReadyWorkersAsync("t", 2);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Directory.Delete(StaticDirectory, recursive: true);
    }
}
