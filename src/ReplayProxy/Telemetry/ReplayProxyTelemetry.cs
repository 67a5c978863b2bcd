using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ReplayProxy;

/// <summary>
/// The proxy's own <see cref="ActivitySource"/> and <see cref="Meter"/>. Tags carry the route name, the upstream host
/// and the outcome; never a URL, a query, a key, a cookie or a body.
/// </summary>
public sealed class ReplayProxyTelemetry : IDisposable
{
    public const string ActivitySourceName = "ReplayProxy";
    public const string MeterName = "ReplayProxy";
    public const string ForwardActivityName = "ReplayProxy.Forward";

    internal const string RouteTag = "replay_proxy.route";
    /// <summary>The Amplitude region a request went to (<c>us</c>, <c>eu</c>): its path prefix's, or the configured one.</summary>
    internal const string RegionTag = "replay_proxy.region";
    internal const string MethodTag = "http.request.method";
    internal const string StatusTag = "http.response.status_code";
    internal const string ErrorTag = "error.type";
    /// <summary>On a forward span: the upload was kept through an Amplitude failure and answered 200.</summary>
    internal const string SpooledTag = "replay_proxy.spooled";
    internal const string ServerAddressTag = "server.address";
    internal const string ServerPortTag = "server.port";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<long> _requestBytes;
    private readonly Histogram<long> _responseBytes;
    private readonly Counter<long> _upstreamErrors;

    public ReplayProxyTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _requests = _meter.CreateCounter<long>("replay_proxy.requests", "{request}", "Requests answered, by route and status.");
        _duration = _meter.CreateHistogram<double>("replay_proxy.request.duration", "s", "Time from request to the end of the response.");
        _requestBytes = _meter.CreateHistogram<long>("replay_proxy.request.body.size", "By", "Request body bytes sent upstream.");
        _responseBytes = _meter.CreateHistogram<long>("replay_proxy.response.body.size", "By", "Response body bytes sent to the client.");
        _upstreamErrors = _meter.CreateCounter<long>("replay_proxy.upstream.errors", "{error}", "Requests that failed at or after the upstream, by kind.");
    }

    internal static ActivitySource Source { get; } = new(ActivitySourceName);

    internal static Activity? StartForward(ReplayRoute route, string region, string method, UpstreamBaseUrl upstream)
    {
        var activity = Source.StartActivity(ForwardActivityName, ActivityKind.Client);
        if (activity is null)
        {
            return null;
        }

        activity.DisplayName = $"{method} {route.Unprefixed.Name}";
        activity.SetTag(RouteTag, route.Unprefixed.Name);
        activity.SetTag(RegionTag, RegionValue(region));
        activity.SetTag(MethodTag, method);
        activity.SetTag(ServerAddressTag, upstream.Host);
        activity.SetTag(ServerPortTag, upstream.Port);
        return activity;
    }

    internal void RecordRequest(ReplayRoute route, string region, string method, int status, ProxyError error, TimeSpan elapsed, long requestBytes, long responseBytes)
    {
        var tags = new TagList
        {
            { RouteTag, route.Unprefixed.Name },
            { MethodTag, KnownMethod(method) },
            { StatusTag, status },
        };
        if (route.Upstream != UpstreamKind.None)
        {
            tags.Add(RegionTag, RegionValue(region));
        }

        if (error != ProxyError.None)
        {
            tags.Add(ErrorTag, error.TagValue());
        }

        _requests.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
        if (requestBytes > 0)
        {
            _requestBytes.Record(requestBytes, tags);
        }

        if (responseBytes > 0)
        {
            _responseBytes.Record(responseBytes, tags);
        }
    }

    internal void RecordUpstreamError(ReplayRoute route, UpstreamBaseUrl upstream, ProxyError error) =>
        _upstreamErrors.Add(1, new TagList { { RouteTag, route.Unprefixed.Name }, { ServerAddressTag, upstream.Host }, { ErrorTag, error.TagValue() } });

    private static string RegionValue(string region) => region == AmplitudeRegion.EU ? "eu" : "us";

    /// <summary>Methods outside the route table are reported as <c>_OTHER</c> (OpenTelemetry semantic conventions), so
    /// a client cannot mint unbounded tag values.</summary>
    private static string KnownMethod(string method) => method switch
    {
        "GET" or "HEAD" or "POST" or "OPTIONS" or "PUT" or "DELETE" or "PATCH" => method,
        _ => "_OTHER",
    };

    public void Dispose() => _meter.Dispose();
}
