namespace ReplayProxy.Tests.Reliability;

/// <summary>
/// The long-running and measuring tests: they run one at a time, after the parallel ones, so their figures are not
/// polluted by other tests and they do not starve other tests on a small CI machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Reliability (serial)";

    /// <summary><c>REPLAYPROXY_HEAVY=1</c> turns on the heavier variants (run from bench/, not in CI).</summary>
    public static bool Heavy => Environment.GetEnvironmentVariable("REPLAYPROXY_HEAVY") == "1";
}
