using PyPE.LoadTests;

// The SLO load-test suite: parse the plan, run it open-model against the host, write the reports, and exit
// non-zero when an SLO threshold fails. `dotnet run --project loadtests -- --help` lists the options.
var (options, error) = LoadTestOptions.Parse(args);
if (options is null && error is { Length: > 0 })
{
    await Console.Error.WriteLineAsync($"PyPE.LoadTests: {error}\n\n{LoadTestOptions.Usage}");
    return 2;
}

if (options is null)
{
    // --help: asked for, so on stdout and a success.
    await Console.Out.WriteLineAsync(LoadTestOptions.Usage);
    return 0;
}

var report = await LoadTest.RunAsync(options, Console.Out);
return report.Passed ? 0 : 1;
