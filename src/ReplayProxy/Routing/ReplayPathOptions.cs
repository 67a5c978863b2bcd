namespace ReplayProxy;

/// <summary>
/// The public path of each proxied route (<c>ReplayProxy:Paths:Track</c> ...). The SDKs take any URL, so an operator
/// can pick paths that block lists do not know; Amplitude always receives its own path. Region prefixes
/// (<c>/eu</c>, <c>/us</c>) apply on top.
/// </summary>
public sealed class ReplayPathOptions
{
    public const string DefaultTrack = "/sessions/v2/track";
    public const string DefaultConfig = "/config";
    public const string DefaultHttpApi = "/2/httpapi";
    public const string DefaultBatch = "/batch";
    public const string DefaultLegacy = "/";

    /// <summary>Session Replay uploads and page-exit beacons.</summary>
    public string Track { get; set; } = DefaultTrack;

    /// <summary>Remote config; <c>&lt;path&gt;/&lt;api key&gt;</c> goes to <c>/config/&lt;api key&gt;</c>.</summary>
    public string Config { get; set; } = DefaultConfig;

    /// <summary>Analytics events, JSON.</summary>
    public string HttpApi { get; set; } = DefaultHttpApi;

    /// <summary>Analytics events in batch mode, JSON.</summary>
    public string Batch { get; set; } = DefaultBatch;

    /// <summary>The form upload of Amplitude's maintenance SDKs (Amplitude-iOS 8.x, amplitude-js, the old Android SDK).</summary>
    public string Legacy { get; set; } = DefaultLegacy;
}
