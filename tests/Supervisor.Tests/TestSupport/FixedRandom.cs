namespace PyPE.Supervisor.Tests.TestSupport;

/// <summary>A <see cref="Random"/> whose <see cref="NextDouble"/> always returns the same value, to pin jitter down.</summary>
internal sealed class FixedRandom(double value) : Random
{
    public override double NextDouble() => value;
}
