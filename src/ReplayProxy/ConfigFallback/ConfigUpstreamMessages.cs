using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace ReplayProxy.ConfigFallback;

/// <summary>
/// The config request as Amplitude receives it, under the transformer's header policy
/// (<see cref="AmplitudeTransformer.CopyRequestHeaders"/>): verbatim path and query on the route's host, the client IP,
/// no cookies or forgeable identity, the configured extra headers. The answer's headers go back through
/// <see cref="AmplitudeTransformer.CopyResponseHeaders"/>.
/// </summary>
internal static class ConfigUpstreamMessages
{
    /// <param name="decodableOnly">Offer Amplitude only the content codings the proxy can open (gzip, br, deflate),
    /// so that the answer can be rewritten: browsers also offer zstd.</param>
    public static HttpRequestMessage CreateRequest(HttpContext context, ReplayRoute route, ReplayProxySettings settings, bool trustEdge, bool decodableOnly)
    {
        var request = context.Request;
        var message = new HttpRequestMessage(HttpMethod.Get, settings.For(route).Target(route.UpstreamPath(request), request.QueryString.Value))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

        // A GET has no content, so a content header the request collection refuses has nowhere to go.
        AmplitudeTransformer.CopyRequestHeaders(context, message, settings, trustEdge);
        if (decodableOnly && message.Headers.Remove(HeaderNames.AcceptEncoding))
        {
            var offered = DecodableCodings(request.Headers.AcceptEncoding);
            if (offered.Count > 0)
            {
                message.Headers.TryAddWithoutValidation(HeaderNames.AcceptEncoding, string.Join(", ", offered));
            }
        }

        return message;
    }

    /// <summary>The client's <c>Accept-Encoding</c> entries (with their weights) for codings the proxy decodes;
    /// <c>*</c> would let Amplitude pick any, so it goes too.</summary>
    private static List<string> DecodableCodings(IEnumerable<string?> acceptEncoding)
    {
        var kept = new List<string>();
        foreach (var value in acceptEncoding)
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var semicolon = part.IndexOf(';', StringComparison.Ordinal);
                var coding = semicolon < 0 ? part : part[..semicolon].TrimEnd();
                if (!coding.Equals("*", StringComparison.Ordinal) && ConfigBody.IsKnownEncoding(coding))
                {
                    kept.Add(part);
                }
            }
        }

        return kept;
    }
}
