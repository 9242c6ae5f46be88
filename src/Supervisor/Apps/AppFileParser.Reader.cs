using System.Globalization;
using System.Text.Json;

namespace PyPE.Supervisor.Apps;

public static partial class AppFileParser
{
    /// <summary>Typed reads of JSON properties that record a readable error instead of throwing.</summary>
    private sealed class Reader(string file, List<ConfigError> errors)
    {
        public void RejectUnknownKeys(JsonElement element, string prefix, string[] allowed)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (Array.IndexOf(allowed, property.Name) >= 0)
                {
                    continue;
                }

                var suggestion = allowed.FirstOrDefault(a => string.Equals(a, property.Name, StringComparison.OrdinalIgnoreCase))
                    ?? allowed.FirstOrDefault(a => a.StartsWith(property.Name, StringComparison.OrdinalIgnoreCase) || property.Name.StartsWith(a, StringComparison.OrdinalIgnoreCase));
                var hint = suggestion is null ? $"allowed: {string.Join(", ", allowed)}" : $"did you mean '{suggestion}'?";
                errors.Add(new(file, prefix + property.Name, $"unknown key; {hint}"));
            }
        }

        public bool ExpectObject(JsonElement element, string key)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                return true;
            }

            errors.Add(new(file, key, $"must be an object, not {Describe(element)}"));
            return false;
        }

        public string? RequiredString(JsonElement parent, string key)
        {
            if (!parent.TryGetProperty(key, out var value))
            {
                errors.Add(new(file, key, "missing (required)"));
                return null;
            }

            return StringValue(value, key);
        }

        public string? OptionalString(JsonElement parent, string name, string key) =>
            parent.TryGetProperty(name, out var value) ? StringValue(value, key) : null;

        private string? StringValue(JsonElement value, string key)
        {
            if (value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString()))
            {
                return value.GetString()!.Trim();
            }

            errors.Add(new(file, key, $"must be a non-empty string, not {Describe(value)}"));
            return null;
        }

        public int Integer(JsonElement parent, string name, int fallback, int min, int max) =>
            (int)Long(parent, name, fallback, min, max);

        // section: the object parent is ("pool", "health"), for the key an error names.
        public long Long(JsonElement parent, string name, long fallback, long min, long max, string section = "pool")
        {
            if (!parent.TryGetProperty(name, out var value))
            {
                return fallback;
            }

            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= min && number <= max)
            {
                return number;
            }

            errors.Add(new(file, section + "." + name, $"must be a whole number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, not {Describe(value)}"));
            return fallback;
        }

        // section: the object parent is ("pool", "health"), for the key an error names.
        public TimeSpan Seconds(JsonElement parent, string name, TimeSpan fallback, double min, double max, string section = "pool")
        {
            if (!parent.TryGetProperty(name, out var value))
            {
                return fallback;
            }

            if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && seconds >= min && seconds <= max)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            errors.Add(new(file, section + "." + name, $"must be a number of seconds from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, not {Describe(value)}"));
            return fallback;
        }
    }
}
