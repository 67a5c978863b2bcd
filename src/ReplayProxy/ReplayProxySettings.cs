using System.Collections.Frozen;
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

    public UpstreamBase ReplayUpstream { get; }
    public UpstreamBase ConfigUpstream { get; }
    public UpstreamBase AnalyticsUpstream { get; }
    public OriginPolicy Origins { get; }
    public ApiKeys ApiKeys { get; }
    public Guid? FrontDoorId { get; }
    public TimeSpan UpstreamTimeout { get; }
    public long MaxRequestBodyBytes { get; }
    public IReadOnlyList<KeyValuePair<string, string>> ExtraUpstreamHeaders { get; }

    public UpstreamBase For(UpstreamKind kind) => kind switch
    {
        UpstreamKind.Replay => ReplayUpstream,
        UpstreamKind.Config => ConfigUpstream,
        UpstreamKind.Analytics => AnalyticsUpstream,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Route has no upstream."),
    };

    private static UpstreamBase Resolve(string? overrideUrl, string region, UpstreamKind kind) =>
        new(string.IsNullOrWhiteSpace(overrideUrl) ? AmplitudeRegion.DefaultHost(region, kind) : new Uri(overrideUrl, UriKind.Absolute));
}

/// <summary>
/// An upstream's scheme, authority and optional base path. The request contributes only a path that the route
/// already matched and its query; the authority always comes from here.
/// </summary>
internal sealed class UpstreamBase
{
    private readonly string _prefix;

    public UpstreamBase(Uri baseUri)
    {
        Host = baseUri.Host;
        Port = baseUri.Port;
        _prefix = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    public string Host { get; }
    public int Port { get; }

    /// <param name="escapedPath">An escaped absolute path starting with '/'.</param>
    /// <param name="query">The raw query including its '?', or empty.</param>
    public Uri Target(string escapedPath, string? query) => new(string.Concat(_prefix, escapedPath, query), VerbatimUri);

    /// <summary>Path and query go upstream exactly as the client sent them (no unescaping or dot-segment rewriting
    /// by <see cref="Uri"/>); the authority is ours and parsed as usual.</summary>
    private static readonly UriCreationOptions VerbatimUri = new() { DangerousDisablePathAndQueryCanonicalization = true };
}

/// <summary>Exact-match origin allow-list; empty allows any origin.</summary>
internal sealed class OriginPolicy(IEnumerable<string> origins)
{
    private readonly FrozenSet<string> _origins = origins.ToFrozenSet(StringComparer.Ordinal);

    public bool AllowsAny => _origins.Count == 0;

    public bool Allows(string origin) => AllowsAny || _origins.Contains(origin);

    /// <summary>An origin as a browser serializes it: scheme://host[:port], nothing after.</summary>
    public static bool IsWellFormedOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.UserInfo)
        && !origin.Contains('*', StringComparison.Ordinal)
        && string.Equals(uri.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase);
}
