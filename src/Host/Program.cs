using Microsoft.Extensions.Options;
using PyPE.Host.Hosting;

// The host's table of contents is PyPEApplication.Build: logging, supervisor, routing, dispatch, metrics,
// admin listener and systemd integration, one line each. Tests build the very same host.
var app = PyPEApplication.Build(args);
try
{
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException invalid)
{
    // Bad configuration at start-up: refuse to start and list every problem, not a stack trace.
    Console.Error.WriteLine("PyPE.Exec cannot start; fix these configuration errors:");
    foreach (var failure in invalid.Failures)
    {
        Console.Error.WriteLine("  " + failure);
    }

    return 2;
}
