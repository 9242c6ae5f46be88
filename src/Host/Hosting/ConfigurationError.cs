namespace PyPE.Host.Hosting;

/// <summary>How the host refuses to start on bad configuration: every problem on stderr, exit code 2.</summary>
internal static class ConfigurationError
{
    public static int Report(IEnumerable<string> failures)
    {
        Console.Error.WriteLine("PyPE.Exec cannot start; fix these configuration errors:");
        foreach (var failure in failures)
        {
            Console.Error.WriteLine("  " + failure);
        }

        return 2;
    }

    /// <summary>A value the configuration binder could not convert ("Failed to convert configuration value 'x' at 'Key'...").</summary>
    public static bool IsBindingFailure(InvalidOperationException exception) =>
        exception.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal);
}
