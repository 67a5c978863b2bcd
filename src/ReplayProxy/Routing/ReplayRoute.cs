using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy;

/// <summary>
/// One row of the route table: what it is, the public path it answers, its methods, its upstream kind and, for the
/// region-prefixed rows (<c>/eu/...</c>, <c>/us/...</c>), the Amplitude region it is pinned to. Unprefixed rows use
/// the configured <see cref="ReplayProxyOptions.Region"/>. The static rows are the default paths; a
/// <see cref="ReplayRouteTable"/> built from <c>ReplayProxy:Paths</c> holds the rows a host actually serves.
/// </summary>
public sealed class ReplayRoute
{
    public const string HealthPath = "/healthz";
    public const string UpstreamHealthPath = "/healthz/upstreams";

    public static readonly ReplayRoute Track = new(ReplayRouteKind.Track, "track", ReplayPathOptions.DefaultTrack, UpstreamKind.Replay, "/sessions/v2/track", "POST", "OPTIONS");
    public static readonly ReplayRoute Config = new(ReplayRouteKind.Config, "config", ReplayPathOptions.DefaultConfig, UpstreamKind.Config, "/config", "GET", "HEAD", "OPTIONS");
    public static readonly ReplayRoute HttpApi = new(ReplayRouteKind.HttpApi, "httpapi", ReplayPathOptions.DefaultHttpApi, UpstreamKind.Analytics, "/2/httpapi", "POST", "OPTIONS");
    public static readonly ReplayRoute Batch = new(ReplayRouteKind.Batch, "batch", ReplayPathOptions.DefaultBatch, UpstreamKind.Analytics, "/batch", "POST", "OPTIONS");
    public static readonly ReplayRoute Legacy = new(ReplayRouteKind.Legacy, "legacy", ReplayPathOptions.DefaultLegacy, UpstreamKind.Analytics, "/", "POST", "OPTIONS");
    public static readonly ReplayRoute Health = new(ReplayRouteKind.Health, "health", HealthPath, UpstreamKind.None, null, "GET", "HEAD");
    public static readonly ReplayRoute UpstreamHealth = new(ReplayRouteKind.UpstreamHealth, "upstreams", UpstreamHealthPath, UpstreamKind.None, null, "GET");

    private readonly FrozenSet<string> _methods;
    private readonly string? _amplitudePath;

    private ReplayRoute(ReplayRouteKind kind, string name, string publicPath, UpstreamKind upstream, string? amplitudePath, params string[] methods)
    {
        Kind = kind;
        Name = name;
        PublicPath = publicPath;
        Upstream = upstream;
        _amplitudePath = amplitudePath;
        Methods = methods;
        AllowHeader = string.Join(", ", methods);
        _methods = methods.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        Unprefixed = this;
        PathPrefix = string.Empty;
    }

    /// <summary>The same row at another public path (from <c>ReplayProxy:Paths</c>), or pinned to a region.</summary>
    private ReplayRoute(ReplayRoute unprefixed, string publicPath, string? region)
        : this(unprefixed.Kind, region is null ? unprefixed.Name : region.ToLowerInvariant() + "-" + unprefixed.Name, publicPath, unprefixed.Upstream, unprefixed._amplitudePath, [.. unprefixed.Methods])
    {
        Unprefixed = region is null ? this : unprefixed;
        Region = region;
        PathPrefix = region is null ? string.Empty : "/" + region.ToLowerInvariant();
    }

    public ReplayRouteKind Kind { get; }

    /// <summary>Unique name of the row: <c>track</c>, <c>eu-track</c>, ... Never the request path, which can hold an
    /// API key.</summary>
    public string Name { get; }

    /// <summary>The path clients use, without the region prefix: <c>/sessions/v2/track</c> unless configured.</summary>
    public string PublicPath { get; }

    /// <summary><c>US</c> or <c>EU</c> for a region-prefixed row; null when the configured region applies.</summary>
    public string? Region { get; }

    /// <summary>The row without the region prefix (itself when unprefixed); its name is the telemetry route tag.</summary>
    public ReplayRoute Unprefixed { get; }

    internal UpstreamKind Upstream { get; }

    /// <summary>Allowed methods, upper case, in the order the <c>Allow</c> header lists them.</summary>
    public IReadOnlyList<string> Methods { get; }

    /// <summary>Value of the <c>Allow</c> header and of <c>Access-Control-Allow-Methods</c>.</summary>
    internal string AllowHeader { get; }

    /// <summary><c>/eu</c> or <c>/us</c> on a region-prefixed row, else empty.</summary>
    internal string PathPrefix { get; }

    /// <summary>Config takes <c>/&lt;key&gt;...</c> after its path; every other route is one exact path.</summary>
    internal bool HasTail => Kind == ReplayRouteKind.Config;

    /// <summary>True for the routes that carry uploads to Amplitude (replay and analytics POSTs).</summary>
    internal bool IsUpload => Upstream is UpstreamKind.Replay or UpstreamKind.Analytics;

    internal bool Allows(string method) => _methods.Contains(method);

    internal ReplayRoute At(string publicPath) =>
        string.Equals(publicPath, PublicPath, StringComparison.Ordinal) ? this : new ReplayRoute(this, publicPath, region: null);

    internal ReplayRoute InRegion(string region) => new(this, PublicPath, region);

    /// <summary>The request path as Amplitude's (unescaped) path: the public path and region prefix replaced by
    /// Amplitude's own, a config tail kept. Only meaningful for a path this row matched.</summary>
    internal PathString AmplitudePathOf(PathString path) =>
        new(_amplitudePath + Tail(path.Value ?? string.Empty));

    /// <summary>The escaped path Amplitude receives: fixed routes go to their canonical path; config keeps what follows
    /// its public path as the client escaped it. Neither the region prefix nor the public path goes upstream.</summary>
    internal string UpstreamPath(HttpRequest request) =>
        HasTail ? _amplitudePath + Tail(request.Path.ToUriComponent()) : _amplitudePath!;

    private string Tail(string path)
    {
        if (!HasTail)
        {
            return string.Empty;
        }

        var start = PathPrefix.Length + PublicPath.Length;
        return path.Length > start ? path[start..] : string.Empty;
    }

    public override string ToString() => Name;
}
