using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

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

        foreach (var (name, values) in request.Headers)
        {
            if (HeaderPolicy.ForwardRequestHeader(name))
            {
                // A GET has no content, so a content header the request collection refuses has nowhere to go.
                message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        if (ClientAddress.Resolve(context, trustEdge) is { } clientIp)
        {
            message.Headers.TryAddWithoutValidation(ClientAddress.ForwardedForHeader, clientIp);
        }

        foreach (var (name, value) in settings.ExtraUpstreamHeaders)
        {
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }

        return message;
    }

    public static void CopyResponseHeaders(HttpResponseMessage upstream, HttpResponse response)
    {
        var connection = upstream.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var tokens)
            ? new StringValues(tokens.ToArray())
            : StringValues.Empty;
        Copy(upstream.Headers.NonValidated, response, connection);
        Copy(upstream.Content.Headers.NonValidated, response, connection);
    }

    private static void Copy(HttpHeadersNonValidated source, HttpResponse response, StringValues connection)
    {
        foreach (var (name, values) in source)
        {
            if (!HeaderPolicy.ForwardResponseHeader(name, connection))
            {
                continue;
            }

            if (name.Equals(HeaderNames.Vary, StringComparison.OrdinalIgnoreCase))
            {
                // Ours (Vary: Origin) may already be there.
                response.Headers.Append(name, values.ToArray());
                continue;
            }

            response.Headers[name] = new StringValues(values.ToArray());
        }
    }
}
