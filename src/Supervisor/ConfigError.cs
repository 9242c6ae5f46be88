namespace PyPE.Supervisor;

/// <summary>One readable configuration problem: where it is (file and key), what is wrong, what is allowed.</summary>
public sealed record ConfigError(string Source, string Key, string Message)
{
    public override string ToString() => Key.Length == 0 ? $"{Source}: {Message}" : $"{Source}: '{Key}': {Message}";
}
