using System.Net;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.ConfigFallback;

/// <summary>
/// The config request as Amplitude receives it and the answer as the client receives it, under the proxy's header
/// policy (<see cref="HeaderPolicy"/>): verbatim path and query on the configured host, the client IP, no cookies or
/// forgeable identity, the configured extra headers; back, no cookies, no upstream CORS, no Alt-Svc.
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

    public static void CopyResponseHeaders(HttpResponseMessage upstream, HttpResponse response) =>
        AmplitudeTransformer.CopyResponseHeaders(upstream, response);
}
