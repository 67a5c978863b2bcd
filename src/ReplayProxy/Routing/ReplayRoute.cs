using System.Collections.Frozen;

namespace ReplayProxy;

/// <summary>One row of the route table: a name for telemetry, the templates it answers, its methods and its upstream.</summary>
public sealed class ReplayRoute
{
    public static readonly ReplayRoute Track = new("track", [ReplayRouteTemplates.Track], UpstreamKind.Replay, "POST", "OPTIONS");
    public static readonly ReplayRoute Config = new("config", [ReplayRouteTemplates.Config, ReplayRouteTemplates.ConfigWithKey], UpstreamKind.Config, "GET", "HEAD", "OPTIONS");
    public static readonly ReplayRoute HttpApi = new("httpapi", [ReplayRouteTemplates.HttpApi], UpstreamKind.Analytics, "POST", "OPTIONS");
    public static readonly ReplayRoute Batch = new("batch", [ReplayRouteTemplates.Batch], UpstreamKind.Analytics, "POST", "OPTIONS");
    public static readonly ReplayRoute Health = new("health", [ReplayRouteTemplates.Health], UpstreamKind.None, "GET", "HEAD");
    public static readonly ReplayRoute UpstreamHealth = new("upstreams", [ReplayRouteTemplates.UpstreamHealth], UpstreamKind.None, "GET");

    /// <summary>Every route the proxy answers; anything else is 404.</summary>
    public static IReadOnlyList<ReplayRoute> All { get; } = [Track, Config, HttpApi, Batch, Health, UpstreamHealth];

    private readonly FrozenSet<string> _methods;

    private ReplayRoute(string name, string[] templates, UpstreamKind upstream, params string[] methods)
    {
        Name = name;
        Templates = templates;
        Upstream = upstream;
        Methods = methods;
        AllowHeader = string.Join(", ", methods);
        _methods = methods.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Short stable name used in telemetry and logs (never the request path, which can hold an API key).</summary>
    public string Name { get; }

    /// <summary>Route templates without a leading slash.</summary>
    public IReadOnlyList<string> Templates { get; }

    internal UpstreamKind Upstream { get; }

    /// <summary>Allowed methods, upper case, in the order the <c>Allow</c> header lists them.</summary>
    public IReadOnlyList<string> Methods { get; }

    /// <summary>Value of the <c>Allow</c> header and of <c>Access-Control-Allow-Methods</c>.</summary>
    internal string AllowHeader { get; }

    internal bool Allows(string method) => _methods.Contains(method);

    public override string ToString() => Name;
}
