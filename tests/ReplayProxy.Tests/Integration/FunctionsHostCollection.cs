namespace ReplayProxy.Tests.Integration;

/// <summary>The contract classes through the Functions test host: each starts the host and its worker as processes,
/// so they run one at a time (beside the in-process classes).</summary>
[CollectionDefinition(Name)]
public sealed class FunctionsHostCollection
{
    public const string Name = "Contract through the Functions host";
}
