using Microsoft.Extensions.Configuration;

namespace PyPE.Supervisor.Supervision;

/// <summary>
/// Checks the host-wide <c>PyPE</c> section before anything starts: unknown keys (a typo would otherwise be
/// silently ignored), the apps directory, the environment name. Every problem is listed at once.
/// </summary>
internal static class HostSettingsValidator
{
    private static readonly Dictionary<string, string[]?> KnownKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["AppsDirectory"] = null,
        ["Environment"] = null,
        ["RuntimeDirectory"] = null,
        ["DiscoverPyenvRuntimes"] = null,
        ["ShutdownTimeout"] = null,
        // Runtimes:<id>:* is checked by the runtime catalog loader.
        ["Runtimes"] = [],
        ["Admin"] = ["Urls"],
        ["Restarts"] = ["InitialDelay", "MaxDelay", "StableUptime", "BreakerThreshold", "BreakerCooldown"],
        ["Slo"] = ["Database", "RetentionDays", "Maintenance", "TimeZone"],
    };

    public static List<ConfigError> Validate(IConfiguration configuration, PyPEOptions settings, string appsDirectory)
    {
        var errors = new List<ConfigError>();
        foreach (var section in configuration.GetSection(PyPEOptions.SectionName).GetChildren())
        {
            if (!KnownKeys.TryGetValue(section.Key, out var children))
            {
                errors.Add(new("configuration", $"PyPE:{section.Key}", $"unknown key; allowed: {string.Join(", ", KnownKeys.Keys.Select(k => "PyPE:" + k))}"));
                continue;
            }

            if (children is { Length: > 0 })
            {
                foreach (var child in section.GetChildren().Where(c => !children.Contains(c.Key, StringComparer.OrdinalIgnoreCase)))
                {
                    errors.Add(new("configuration", $"PyPE:{section.Key}:{child.Key}", $"unknown key; allowed: {string.Join(", ", children.Select(c => $"PyPE:{section.Key}:{c}"))}"));
                }
            }
        }

        if (!Directory.Exists(appsDirectory))
        {
            errors.Add(new("configuration", "PyPE:AppsDirectory", $"the folder '{appsDirectory}' does not exist"));
        }

        if (!PyPEOptions.AllowedEnvironments.Contains(settings.Environment, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add(new("configuration", "PyPE:Environment", $"'{settings.Environment}' is not one of {string.Join(", ", PyPEOptions.AllowedEnvironments)}"));
        }

        return errors;
    }
}
