namespace ReplayProxy;

/// <summary>Settings bound from the <c>ReplayProxy</c> configuration section (environment: <c>ReplayProxy__Region</c> etc.).</summary>
public sealed class ReplayProxyOptions
{
    public const string SectionName = "ReplayProxy";
    public const int DefaultUpstreamTimeoutSeconds = 30;
    public const long DefaultMaxRequestBodyBytes = 20 * 1024 * 1024;

    /// <summary><c>US</c> or <c>EU</c>, case-insensitive; selects the Amplitude hosts.</summary>
    public string Region { get; set; } = "US";

    /// <summary>Absolute http(s) base URLs that replace one region host each.</summary>
    public UpstreamOverrides Upstreams { get; set; } = new();

    /// <summary>Comma-separated exact origins; empty allows any origin.</summary>
    public string? AllowedOrigins { get; set; }

    /// <summary>Comma-separated Amplitude API keys; empty allows any key.</summary>
    public string? AllowedApiKeys { get; set; }

    /// <summary>The Front Door profile id (a GUID); when set, <c>X-Azure-FDID</c> must match it.</summary>
    public string? FrontDoorId { get; set; }

    /// <summary>Deadline for upstream response headers, and the longest an upstream body may stall.</summary>
    public int UpstreamTimeoutSeconds { get; set; } = DefaultUpstreamTimeoutSeconds;

    public long MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;

    /// <summary>Extra headers added to every upstream request.</summary>
    public Dictionary<string, string> UpstreamHeaders { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public sealed class UpstreamOverrides
{
    public string? Replay { get; set; }
    public string? Config { get; set; }
    public string? Analytics { get; set; }
}
