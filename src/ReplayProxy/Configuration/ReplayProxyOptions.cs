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

    /// <summary>Absolute http(s) base URLs that replace one Amplitude host each: <c>Replay</c>, <c>Config</c> and
    /// <c>Analytics</c> those of <see cref="Region"/>, <c>EuReplay</c> ... <c>UsAnalytics</c> those of one region.</summary>
    public UpstreamOverrides Upstreams { get; set; } = new();

    /// <summary>Comma-separated exact origins; empty allows any origin.</summary>
    public string? AllowedOrigins { get; set; }

    /// <summary>Comma-separated Amplitude API keys, or <c>*</c> alone for any key; empty allows any key too, with a
    /// warning at start.</summary>
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

    /// <summary>Public paths of the proxied routes; Amplitude always receives its own.</summary>
    public ReplayPathOptions Paths { get; set; } = new();

    /// <summary>False (the default): config answers reach the browser SDK with <c>configs.diagnostics.browserSDK</c>
    /// switched off, so it never sends diagnostics to Amplitude's diagnostics host, which bypasses the proxy.</summary>
    public bool AllowSdkDiagnostics { get; set; }

    /// <summary>Extra headers added to every upstream request, by name (<c>UpstreamHeaders:X-Proxy-Auth</c>).</summary>
    public Dictionary<string, string> UpstreamHeaders { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Keeping uploads through an Amplitude outage (<c>ReplayProxy:Spool:*</c>).</summary>
    public SpoolOptions Spool { get; set; } = new();

    /// <summary>Extra headers in list form (<c>UpstreamHeaders:0:Name</c> and <c>:Value</c>), read from configuration
    /// beside <see cref="UpstreamHeaders"/> by <c>AddReplayProxy</c>.</summary>
    internal List<ListedUpstreamHeader> ListedUpstreamHeaders { get; } = [];
}

/// <summary>
/// Host overrides. <c>Replay</c>, <c>Config</c> and <c>Analytics</c> apply to the configured region only (unprefixed
/// paths and that region's own prefix); the region-named ones apply to that region wherever it is used, so that
/// <c>/eu/...</c> can be pointed elsewhere without touching the default region. Setting both for the same host is an
/// error at start.
/// </summary>
public sealed class UpstreamOverrides
{
    public string? Replay { get; set; }
    public string? Config { get; set; }
    public string? Analytics { get; set; }
    public string? EuReplay { get; set; }
    public string? EuConfig { get; set; }
    public string? EuAnalytics { get; set; }
    public string? UsReplay { get; set; }
    public string? UsConfig { get; set; }
    public string? UsAnalytics { get; set; }

    /// <summary>The override of the configured region's host, by setting name and value.</summary>
    internal (string Name, string? Value) ForDefaultRegion(UpstreamKind kind) => kind switch
    {
        UpstreamKind.Replay => (nameof(Replay), Replay),
        UpstreamKind.Config => (nameof(Config), Config),
        UpstreamKind.Analytics => (nameof(Analytics), Analytics),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Route has no upstream."),
    };

    /// <summary>The override of one region's host, by setting name and value.</summary>
    internal (string Name, string? Value) ForRegion(string region, UpstreamKind kind)
    {
        var eu = string.Equals(region, AmplitudeRegion.EU, StringComparison.OrdinalIgnoreCase);
        return kind switch
        {
            UpstreamKind.Replay => eu ? (nameof(EuReplay), EuReplay) : (nameof(UsReplay), UsReplay),
            UpstreamKind.Config => eu ? (nameof(EuConfig), EuConfig) : (nameof(UsConfig), UsConfig),
            UpstreamKind.Analytics => eu ? (nameof(EuAnalytics), EuAnalytics) : (nameof(UsAnalytics), UsAnalytics),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Route has no upstream."),
        };
    }
}
