namespace ReplayProxy;

/// <summary>Settings bound from the <c>ReplayProxy</c> configuration section (environment: <c>ReplayProxy__Region</c> etc.).</summary>
public sealed class ReplayProxyOptions
{
    public const string SectionName = "ReplayProxy";
    public const int DefaultUpstreamTimeoutSeconds = 30;
    public const long DefaultMaxRequestBodyBytes = 20 * 1024 * 1024;
    public const int DefaultConfigDeadlineMilliseconds = 800;
    public const int DefaultConfigStaleLimitSeconds = 24 * 60 * 60;
    public const int DefaultConfigMemoryEntries = 100;

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

    /// <summary>How long a config GET waits for Amplitude before it is answered from memory (below the SDK's 1 s).</summary>
    public int ConfigDeadlineMilliseconds { get; set; } = DefaultConfigDeadlineMilliseconds;

    /// <summary>Oldest remembered config answer that may still be served when Amplitude fails; 0 turns the fallback off.</summary>
    public int ConfigStaleLimitSeconds { get; set; } = DefaultConfigStaleLimitSeconds;

    /// <summary>How many config answers (one per path and query) are remembered; the least recently used goes first.</summary>
    public int ConfigMemoryEntries { get; set; } = DefaultConfigMemoryEntries;

    /// <summary>Extra headers added to every upstream request.</summary>
    public Dictionary<string, string> UpstreamHeaders { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public sealed class UpstreamOverrides
{
    public string? Replay { get; set; }
    public string? Config { get; set; }
    public string? Analytics { get; set; }
}
