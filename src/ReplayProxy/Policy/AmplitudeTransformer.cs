using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace ReplayProxy;

/// <summary>
/// The whole header policy of one forwarded request, both ways: the upstream URL (our authority, the route's path,
/// the client's query verbatim), the request headers that may cross (<see cref="HeaderPolicy"/>), the client IP, the
/// configured extra headers; on the way back, Amplitude's headers minus its cookies, CORS and Alt-Svc.
/// </summary>
/// <param name="withholdFailures">An upload that the spool may keep: Amplitude's 500/502/503/504 is not relayed but
/// noted in <see cref="WithheldStatus"/>, for the handler to keep the upload instead.</param>
internal sealed class AmplitudeTransformer(ReplayProxySettings settings, ReplayRoute route, bool trustEdge, long? bufferedBodyLength, bool withholdFailures = false) : HttpTransformer
{
    /// <summary>Bodies above this go with <c>Expect: 100-continue</c> (curl's threshold too).</summary>
    private const long ExpectContinueAboveBytes = 1024 * 1024;

    /// <summary>Amplitude's failure status that was not relayed, if any.</summary>
    public int? WithheldStatus { get; private set; }

    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        var request = httpContext.Request;
        proxyRequest.RequestUri = settings.For(route).Target(route.UpstreamPath(request), request.QueryString.Value);
        CopyRequestHeaders(httpContext, proxyRequest, settings, trustEdge);

        if (proxyRequest.Content is { } content)
        {
            // A body the proxy inspected goes with its length even when the client sent it chunked; otherwise the
            // client's length goes as it came, unless chunked framing overrides it (RFC 9112 §6.3).
            var length = content.Headers.ContentLength = bufferedBodyLength
                ?? (request.Headers.ContainsKey(HeaderNames.TransferEncoding) ? null : request.ContentLength);
            if (length > ExpectContinueAboveBytes)
            {
                // Amplitude's front ends refuse some uploads on their headers (413, 401, 400) and may close without
                // reading the body. HttpClient sends an HTTP/1.1 body whole before it reads the answer, so a reset
                // while sending would lose that answer and the client would get our 502 instead (the replay SDK splits
                // a batch only on Amplitude's 413). With the expectation, the answer arrives before the body is sent.
                proxyRequest.Headers.ExpectContinue = true;
            }
        }

        return default;
    }

    /// <summary>The request headers that may cross, the client IP, then the configured extra headers. The config
    /// fallback (which sends its own request) applies the same policy through this.</summary>
    internal static void CopyRequestHeaders(HttpContext httpContext, HttpRequestMessage proxyRequest, ReplayProxySettings settings, bool trustEdge)
    {
        foreach (var (name, values) in httpContext.Request.Headers)
        {
            if (HeaderPolicy.ForwardRequestHeader(name))
            {
                AddHeader(proxyRequest, name, values);
            }
        }

        if (ClientAddress.Resolve(httpContext, trustEdge) is { } clientIp)
        {
            proxyRequest.Headers.TryAddWithoutValidation(ClientAddress.ForwardedForHeader, clientIp);
        }

        foreach (var (name, value) in settings.ExtraUpstreamHeaders)
        {
            proxyRequest.Headers.Remove(name);
            proxyRequest.Headers.TryAddWithoutValidation(name, value);
        }
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            // The forwarder failed before a response; the handler writes the answer.
            return new(false);
        }

        if (withholdFailures && Spool.OutageSpool.KeepsStatus((int)proxyResponse.StatusCode))
        {
            WithheldStatus = (int)proxyResponse.StatusCode;
            httpContext.Response.Clear();
            return new(false);
        }

        CopyResponseHeaders(proxyResponse, httpContext.Response);
        return new(true);
    }

    /// <summary>Amplitude's response headers minus cookies, CORS, Alt-Svc and hop-by-hop ones (also used by the
    /// config fallback).</summary>
    internal static void CopyResponseHeaders(HttpResponseMessage proxyResponse, HttpResponse response)
    {
        var upstreamHeaders = proxyResponse.Headers.NonValidated;
        var connection = upstreamHeaders.TryGetValues(HeaderNames.Connection, out var tokens)
            ? new StringValues(tokens.ToArray())
            : StringValues.Empty;
        CopyResponseHeaders(upstreamHeaders, response, connection);
        CopyResponseHeaders(proxyResponse.Content.Headers.NonValidated, response, connection);

        // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; forwarding both would invite response splitting.
        if (upstreamHeaders.Contains(HeaderNames.TransferEncoding))
        {
            response.Headers.ContentLength = null;
        }
    }

    public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken) =>
        // Trailers would bypass the response header policy; the SDKs read none.
        default;

    private static void AddHeader(HttpRequestMessage proxyRequest, string name, StringValues values)
    {
        // The single-value overload avoids boxing StringValues into an enumerable (most headers have one value).
        var added = values.Count == 1
            ? proxyRequest.Headers.TryAddWithoutValidation(name, values[0])
            : proxyRequest.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        if (!added && proxyRequest.Content is { } content)
        {
            _ = values.Count == 1
                ? content.Headers.TryAddWithoutValidation(name, values[0])
                : content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
    }

    private static void CopyResponseHeaders(HttpHeadersNonValidated source, HttpResponse response, StringValues connection)
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

            response.Headers[name] = values.Count == 1 ? new StringValues(values.ToString()) : new StringValues(values.ToArray());
        }
    }
}
