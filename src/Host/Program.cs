using Microsoft.Extensions.Options;
using PyPE.Host.Cli;
using PyPE.Host.Hosting;
using PyPE.Host.Logging;

// Before any socket exists: the runtime reads this choice once.
InlineSocketIo.ChooseDefault();

// `PyPE.Host status [--admin URL]`: the terminal view of a running host.
if (args.Length > 0 && args[0] == StatusCommand.Name)
{
    return await StatusCommand.RunAsync(args, Console.Out, Console.Error);
}

// The host's table of contents is PyPEApplication.Build: logging, supervisor, routing, dispatch, metrics,
// admin listener and systemd integration, one line each. Tests build the very same host.
try
{
    var app = PyPEApplication.Build(args);
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException invalid)
{
    // Bad configuration at start-up: refuse to start and list every problem, not a stack trace.
    return ConfigurationError.Report(invalid.Failures);
}
catch (LoggingConfigurationException invalid)
{
    return ConfigurationError.Report([invalid.Message]);
}
catch (InvalidOperationException invalid) when (ConfigurationError.IsBindingFailure(invalid))
{
    return ConfigurationError.Report([invalid.Message]);
}
