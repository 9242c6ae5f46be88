using PyPE.LoadTests;

// The SLO load-test suite: parse the plan, run it open-model against the host, write the reports, and exit
// non-zero when an SLO threshold fails. `dotnet run --project loadtests -- --help` lists the options.
var (options, error) = LoadTestOptions.Parse(args);
if (options is null)
{
    await Console.Error.WriteLineAsync(error is { Length: > 0 } ? $"PyPE.LoadTests: {error}\n\n{LoadTestOptions.Usage}" : LoadTestOptions.Usage);
    return 2;
}

var report = await LoadTest.RunAsync(options, Console.Out);
return report.Passed ? 0 : 1;
