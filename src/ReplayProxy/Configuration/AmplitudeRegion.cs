namespace ReplayProxy;

/// <summary>Amplitude's public hosts per region (PROTOCOL.md, "Upstream hosts").</summary>
internal static class AmplitudeRegion
{
    public const string US = "US";
    public const string EU = "EU";

    public static readonly IReadOnlyList<string> All = [US, EU];

    public static IReadOnlyList<UpstreamKind> UpstreamKinds { get; } = [UpstreamKind.Replay, UpstreamKind.Config, UpstreamKind.Analytics];

    /// <summary>The canonical spelling (<c>US</c>, <c>EU</c>) of a known region.</summary>
    public static string Normalize(string region) => string.Equals(region, EU, StringComparison.OrdinalIgnoreCase) ? EU : US;

    public static bool IsKnown(string? region) =>
        string.Equals(region, US, StringComparison.OrdinalIgnoreCase) || string.Equals(region, EU, StringComparison.OrdinalIgnoreCase);

    public static Uri DefaultHost(string region, UpstreamKind kind)
    {
        var eu = string.Equals(region, EU, StringComparison.OrdinalIgnoreCase);
        return kind switch
        {
            UpstreamKind.Replay => new Uri(eu ? "https://api-sr.eu.amplitude.com" : "https://api-sr.amplitude.com"),
            UpstreamKind.Config => new Uri(eu ? "https://sr-client-cfg.eu.amplitude.com" : "https://sr-client-cfg.amplitude.com"),
            UpstreamKind.Analytics => new Uri(eu ? "https://api.eu.amplitude.com" : "https://api2.amplitude.com"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Route has no upstream."),
        };
    }
}
