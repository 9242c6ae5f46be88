using Microsoft.Extensions.Options;

namespace PyPE.Host.Slo;

/// <summary>Refuses to start with an unusable <c>PyPE:Slo</c> section, naming every bad key.</summary>
internal sealed class SloOptionsValidator : IValidateOptions<SloOptions>
{
    public ValidateOptionsResult Validate(string? name, SloOptions options)
    {
        var errors = new List<string>();
        if (options.RetentionDays < 1)
        {
            errors.Add($"PyPE:Slo:RetentionDays: must be at least 1 (days), not {options.RetentionDays}");
        }

        MaintenanceSchedule.From(options, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
