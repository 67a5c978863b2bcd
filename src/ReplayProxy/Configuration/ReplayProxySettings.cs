using Microsoft.Extensions.Options;

namespace ReplayProxy;

/// <summary>The validated options, resolved once into the form the hot path reads.</summary>
internal sealed class ReplayProxySettings
{
    public ReplayProxySettings(IOptions<ReplayProxyOptions> options)
        : this(options.Value)
    {
    }

    public ReplayProxySettings(ReplayProxyOptions options)
    {
        ReplayUpstream = Resolve(options.Upstreams.Replay, options.Region, UpstreamKind.Replay);
        ConfigUpstream = Resolve(options.Upstreams.Config, options.Region, UpstreamKind.Config);
        AnalyticsUpstream = Resolve(options.Upstreams.Analytics, options.Region, UpstreamKind.Analytics);
        Origins = new OriginPolicy(SettingList.Split(options.AllowedOrigins));
        ApiKeys = new ApiKeys(SettingList.Split(options.AllowedApiKeys));
        FrontDoorId = Guid.TryParse(options.FrontDoorId, out var id) ? id : null;
        UpstreamTimeout = TimeSpan.FromSeconds(options.UpstreamTimeoutSeconds);
        MaxRequestBodyBytes = options.MaxRequestBodyBytes;
        ExtraUpstreamHeaders = options.UpstreamHeaders.Select(h => KeyValuePair.Create(h.Key, h.Value)).ToArray();
    }

    public UpstreamBaseUrl ReplayUpstream { get; }
    public UpstreamBaseUrl ConfigUpstream { get; }
    public UpstreamBaseUrl AnalyticsUpstream { get; }
    public OriginPolicy Origins { get; }
    public ApiKeys ApiKeys { get; }
    public Guid? FrontDoorId { get; }
    public TimeSpan UpstreamTimeout { get; }
    public long MaxRequestBodyBytes { get; }
    public IReadOnlyList<KeyValuePair<string, string>> ExtraUpstreamHeaders { get; }

    public UpstreamBaseUrl For(UpstreamKind kind) => kind switch
    {
        UpstreamKind.Replay => ReplayUpstream,
        UpstreamKind.Config => ConfigUpstream,
        UpstreamKind.Analytics => AnalyticsUpstream,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Route has no upstream."),
    };

    private static UpstreamBaseUrl Resolve(string? overrideUrl, string region, UpstreamKind kind) =>
        new(string.IsNullOrWhiteSpace(overrideUrl) ? AmplitudeRegion.DefaultHost(region, kind) : new Uri(overrideUrl, UriKind.Absolute));
}
