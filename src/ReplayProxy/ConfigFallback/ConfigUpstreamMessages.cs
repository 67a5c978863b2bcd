using System.Net;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.ConfigFallback;

/// <summary>
/// The config request as Amplitude receives it, under the transformer's header policy
/// (<see cref="AmplitudeTransformer.CopyRequestHeaders"/>): verbatim path and query on the route's host, the client IP,
/// no cookies or forgeable identity, the configured extra headers. The answer's headers go back through
/// <see cref="AmplitudeTransformer.CopyResponseHeaders"/>.
/// </summary>
internal static class ConfigUpstreamMessages
{
    public static HttpRequestMessage CreateRequest(HttpContext context, ReplayRoute route, ReplayProxySettings settings, bool trustEdge)
    {
        var request = context.Request;
        var message = new HttpRequestMessage(HttpMethod.Get, settings.For(route).Target(route.UpstreamPath(request), request.QueryString.Value))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

        // A GET has no content, so a content header the request collection refuses has nowhere to go.
        AmplitudeTransformer.CopyRequestHeaders(context, message, settings, trustEdge);
        return message;
    }
}
