using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy;

/// <summary>
/// One row of the route table: a name, the templates it answers, its methods, its upstream kind and, for the
/// region-prefixed rows (<c>/eu/...</c>, <c>/us/...</c>), the Amplitude region it is pinned to. Unprefixed rows use
/// the configured <see cref="ReplayProxyOptions.Region"/>.
/// </summary>
public sealed class ReplayRoute
{
    public static readonly ReplayRoute Track = new("track", [ReplayRouteTemplates.Track], UpstreamKind.Replay, "POST", "OPTIONS");
    public static readonly ReplayRoute Config = new("config", [ReplayRouteTemplates.Config, ReplayRouteTemplates.ConfigWithKey], UpstreamKind.Config, "GET", "HEAD", "OPTIONS");
    public static readonly ReplayRoute HttpApi = new("httpapi", [ReplayRouteTemplates.HttpApi], UpstreamKind.Analytics, "POST", "OPTIONS");
    public static readonly ReplayRoute Batch = new("batch", [ReplayRouteTemplates.Batch], UpstreamKind.Analytics, "POST", "OPTIONS");
    public static readonly ReplayRoute Health = new("health", [ReplayRouteTemplates.Health], UpstreamKind.None, "GET", "HEAD");
    public static readonly ReplayRoute UpstreamHealth = new("upstreams", [ReplayRouteTemplates.UpstreamHealth], UpstreamKind.None, "GET");

    public static readonly ReplayRoute EuTrack = new(Track, AmplitudeRegion.EU, ReplayRouteTemplates.EuTrack);
    public static readonly ReplayRoute EuConfig = new(Config, AmplitudeRegion.EU, ReplayRouteTemplates.EuConfig, ReplayRouteTemplates.EuConfigWithKey);
    public static readonly ReplayRoute EuHttpApi = new(HttpApi, AmplitudeRegion.EU, ReplayRouteTemplates.EuHttpApi);
    public static readonly ReplayRoute EuBatch = new(Batch, AmplitudeRegion.EU, ReplayRouteTemplates.EuBatch);
    public static readonly ReplayRoute UsTrack = new(Track, AmplitudeRegion.US, ReplayRouteTemplates.UsTrack);
    public static readonly ReplayRoute UsConfig = new(Config, AmplitudeRegion.US, ReplayRouteTemplates.UsConfig, ReplayRouteTemplates.UsConfigWithKey);
    public static readonly ReplayRoute UsHttpApi = new(HttpApi, AmplitudeRegion.US, ReplayRouteTemplates.UsHttpApi);
    public static readonly ReplayRoute UsBatch = new(Batch, AmplitudeRegion.US, ReplayRouteTemplates.UsBatch);

    /// <summary>Every route the proxy answers; anything else is 404. Health has no region prefix: it describes the
    /// instance, and <c>/healthz/upstreams</c> already covers both regions.</summary>
    public static IReadOnlyList<ReplayRoute> All { get; } =
    [
        Track, Config, HttpApi, Batch, Health, UpstreamHealth,
        EuTrack, EuConfig, EuHttpApi, EuBatch,
        UsTrack, UsConfig, UsHttpApi, UsBatch,
    ];

    private readonly FrozenSet<string> _methods;

    private ReplayRoute(string name, string[] templates, UpstreamKind upstream, params string[] methods)
    {
        Name = name;
        Templates = templates;
        Upstream = upstream;
        Methods = methods;
        AllowHeader = string.Join(", ", methods);
        _methods = methods.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        Unprefixed = this;
        PathPrefix = string.Empty;
    }

    /// <summary>The region-prefixed twin of <paramref name="unprefixed"/>: same methods and upstream kind.</summary>
    private ReplayRoute(ReplayRoute unprefixed, string region, params string[] templates)
        : this(region.ToLowerInvariant() + "-" + unprefixed.Name, templates, unprefixed.Upstream, [.. unprefixed.Methods])
    {
        Unprefixed = unprefixed;
        Region = region;
        PathPrefix = "/" + region.ToLowerInvariant();
    }

    /// <summary>Unique name of the row (the Functions function name): <c>track</c>, <c>eu-track</c>, ... Never the
    /// request path, which can hold an API key.</summary>
    public string Name { get; }

    /// <summary>Route templates without a leading slash.</summary>
    public IReadOnlyList<string> Templates { get; }

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

    internal bool Allows(string method) => _methods.Contains(method);

    /// <summary>The request path without the region prefix (the route matched it, so only its length matters).</summary>
    internal PathString WithoutPrefix(PathString path) =>
        PathPrefix.Length == 0 || path.Value is not { } value ? path : new PathString(value[PathPrefix.Length..]);

    /// <summary>The escaped path Amplitude receives: fixed routes go to their canonical path; config keeps what follows
    /// <c>/config</c> as the client escaped it. The region prefix never goes upstream.</summary>
    internal string UpstreamPath(HttpRequest request)
    {
        if (Unprefixed != Config)
        {
            return "/" + Unprefixed.Templates[0];
        }

        var path = request.Path.ToUriComponent();
        return "/" + ReplayRouteTemplates.Config + path[(PathPrefix.Length + 1 + ReplayRouteTemplates.Config.Length)..];
    }

    public override string ToString() => Name;
}
