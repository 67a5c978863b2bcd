using Microsoft.Extensions.Logging;

namespace ReplayProxy;

/// <summary>
/// Log rules that keep request paths and queries (<c>/config/&lt;api key&gt;</c>, the beacon's <c>api_key</c>) out of
/// the logs ASP.NET Core and YARP write around the proxy. Hosts apply them with <see cref="AddReplayProxyLogRules"/>.
/// </summary>
public static class ReplayProxyLogging
{
    /// <summary>Logs each request's full URL at Information, and while enabled at any level opens a per-request log
    /// scope holding <c>RequestPath</c>, which every log line of the request then carries. Off entirely.</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>Writes the request path in its Debug messages ("candidate(s) found for the request path ...").</summary>
    public const string RouteMatcherCategory = "Microsoft.AspNetCore.Routing.Matching.DfaMatcher";

    /// <summary>Kestrel's Debug messages about malformed requests can quote the request target.</summary>
    public const string KestrelBadRequestsCategory = "Microsoft.AspNetCore.Server.Kestrel.BadRequests";

    /// <summary>YARP's forwarder logs each target URL (query and <c>api_key</c> included) at Information, and client
    /// resets at Warning. The handler logs every outcome without them, so the category is off.</summary>
    public const string ForwarderCategory = "Yarp.ReverseProxy";

    public static ILoggingBuilder AddReplayProxyLogRules(this ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddFilter(HostingDiagnosticsCategory, LogLevel.None);
        logging.AddFilter(RouteMatcherCategory, LogLevel.Information);
        logging.AddFilter(KestrelBadRequestsCategory, LogLevel.Information);
        logging.AddFilter(ForwarderCategory, LogLevel.None);
        return logging;
    }
}
