using Microsoft.Extensions.Options;

namespace ReplayProxy;

/// <summary>The validated options, resolved once into the form the hot path reads.</summary>
internal sealed class ReplayProxySettings
{
    private readonly UpstreamBaseUrl[] _us;
    private readonly UpstreamBaseUrl[] _eu;

    public ReplayProxySettings(IOptions<ReplayProxyOptions> options)
        : this(options.Value)
    {
    }

    public ReplayProxySettings(ReplayProxyOptions options)
    {
        Region = AmplitudeRegion.Normalize(options.Region);
        _us = AmplitudeRegion.UpstreamKinds.Select(kind => Resolve(options.Upstreams, AmplitudeRegion.US, kind)).ToArray();
        _eu = AmplitudeRegion.UpstreamKinds.Select(kind => Resolve(options.Upstreams, AmplitudeRegion.EU, kind)).ToArray();
        Origins = new OriginPolicy(SettingList.Split(options.AllowedOrigins));
        ApiKeys = new ApiKeys(SettingList.Split(options.AllowedApiKeys));
        FrontDoorId = Guid.TryParse(options.FrontDoorId, out var id) ? id : null;
        UpstreamTimeout = TimeSpan.FromSeconds(options.UpstreamTimeoutSeconds);
        MaxRequestBodyBytes = options.MaxRequestBodyBytes;
        Routes = new ReplayRouteTable(options.Paths);
        ExtraUpstreamHeaders = options.UpstreamHeaders.Select(h => KeyValuePair.Create(h.Key, h.Value))
            .Concat(options.ListedUpstreamHeaders.Select(h => KeyValuePair.Create(h.Name!, h.Value!)))
            .ToArray();

        // A region's own override first, then (for the configured region) the plain one, then Amplitude's host. The
        // validator refuses both being set for the same host.
        UpstreamBaseUrl Resolve(UpstreamOverrides overrides, string region, UpstreamKind kind)
        {
            var regional = overrides.ForRegion(region, kind).Value;
            var plain = region == Region ? overrides.ForDefaultRegion(kind).Value : null;
            var chosen = !string.IsNullOrWhiteSpace(regional) ? regional : plain;
            return new(string.IsNullOrWhiteSpace(chosen) ? AmplitudeRegion.DefaultHost(region, kind) : new Uri(chosen, UriKind.Absolute));
        }
    }

    /// <summary>The configured region, <c>US</c> or <c>EU</c>: the one unprefixed paths use.</summary>
    public string Region { get; }

    /// <summary>The configured region's hosts (unprefixed paths).</summary>
    public UpstreamBaseUrl ReplayUpstream => For(UpstreamKind.Replay);
    public UpstreamBaseUrl ConfigUpstream => For(UpstreamKind.Config);
    public UpstreamBaseUrl AnalyticsUpstream => For(UpstreamKind.Analytics);
    public OriginPolicy Origins { get; }
    public ApiKeys ApiKeys { get; }
    public Guid? FrontDoorId { get; }
    public TimeSpan UpstreamTimeout { get; }
    public long MaxRequestBodyBytes { get; }
    public IReadOnlyList<KeyValuePair<string, string>> ExtraUpstreamHeaders { get; }

    /// <summary>The routes at their configured public paths.</summary>
    public ReplayRouteTable Routes { get; }

    /// <summary>The region a route's requests go to: its prefix's, or the configured one.</summary>
    public string RegionOf(ReplayRoute route) => route.Region ?? Region;

    /// <summary>The configured region's host for <paramref name="kind"/>.</summary>
    public UpstreamBaseUrl For(UpstreamKind kind) => For(Region, kind);

    /// <summary>The host a route forwards to.</summary>
    public UpstreamBaseUrl For(ReplayRoute route) => For(RegionOf(route), route.Upstream);

    public UpstreamBaseUrl For(string region, UpstreamKind kind)
    {
        var hosts = region == AmplitudeRegion.EU ? _eu : _us;
        return kind switch
        {
            UpstreamKind.Replay => hosts[0],
            UpstreamKind.Config => hosts[1],
            UpstreamKind.Analytics => hosts[2],
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Route has no upstream."),
        };
    }
}
