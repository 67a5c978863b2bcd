using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace ReplayProxy;

/// <summary>
/// Everything decided before a request may go upstream, in order: the Front Door id, the origin, the method, the
/// preflight and health answers, the body size, the API keys. Whatever it does not let through it answers itself.
/// </summary>
internal sealed partial class AccessGate(ReplayProxySettings settings, ILogger<AccessGate> logger)
{
    public const string FrontDoorIdHeader = "X-Azure-FDID";
    private static readonly byte[] HealthyBody = """{"status":"healthy"}"""u8.ToArray();

    public async Task<Admission> AdmitAsync(HttpContext context, ReplayRoute route)
    {
        var request = context.Request;
        var trustEdge = false;
        if (settings.FrontDoorId is { } frontDoorId)
        {
            if (!FrontDoorMatches(request.Headers[FrontDoorIdHeader], frontDoorId))
            {
                return await RefuseAsync(context, route, ProxyError.FrontDoorRefused, "The request did not come through the configured Front Door.");
            }

            trustEdge = true;
        }

        var originValues = request.Headers.Origin;
        // A serialized origin never holds a comma; two Origin headers reach the worker joined into one value.
        if (originValues.Count > 1 || (originValues.Count == 1 && originValues[0].AsSpan().Contains(',')))
        {
            await ProblemResponses.WriteAsync(context, StatusCodes.Status400BadRequest, "More than one Origin header.");
            return Admission.Answered(StatusCodes.Status400BadRequest, ProxyError.RequestInvalid);
        }

        var origin = originValues.Count == 1 ? originValues[0] : null;
        if (origin is not null && !settings.Origins.Allows(origin))
        {
            return await RefuseAsync(context, route, ProxyError.OriginRefused, "This origin is not allowed to use the proxy.");
        }

        if (origin is not null && !HttpMethods.IsOptions(request.Method))
        {
            // Every answer to an allowed origin from here on is readable by the page, errors included (the replay
            // SDK must see a 413's body to split the batch).
            CorsPolicy.AddResponseHeaders(context.Response, origin);
        }

        if (!route.Allows(request.Method))
        {
            await ProblemResponses.MethodNotAllowed(context, route);
            return Admission.Answered(StatusCodes.Status405MethodNotAllowed);
        }

        if (HttpMethods.IsOptions(request.Method))
        {
            CorsPolicy.WritePreflight(context, route, origin);
            return Admission.Answered(StatusCodes.Status204NoContent);
        }

        if (route.Kind == ReplayRouteKind.UpstreamHealth)
        {
            // Admitted like a proxied request (Front Door, origin, method); the handler runs the diagnostics.
            return Admission.Forwarded(trustEdge, origin, body: null);
        }

        if (route.Upstream == UpstreamKind.None)
        {
            await WriteHealthyAsync(context);
            return Admission.Answered(StatusCodes.Status200OK);
        }

        if (request.ContentLength > settings.MaxRequestBodyBytes)
        {
            return await RefuseAsync(context, route, ProxyError.RequestTooLarge, ProblemResponses.PayloadTooLargeDetail);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize && bodySize.MaxRequestBodySize < settings.MaxRequestBodyBytes)
        {
            // Raised, never lowered: the proxy refuses an oversize body itself (413, MeteredRequestBody), and Kestrel
            // then reads and discards the rest up to its own limit, so whoever is still sending (the browser, or the
            // Functions host in front of the worker) reads the 413 instead of a reset connection.
            bodySize.MaxRequestBodySize = settings.MaxRequestBodyBytes;
        }

        if (settings.ApiKeys.AllowsAny)
        {
            return Admission.Forwarded(trustEdge, origin, body: null);
        }

        var (refusal, body) = await CheckApiKeysAsync(context, route);
        if (refusal == ProxyError.None)
        {
            return Admission.Forwarded(trustEdge, origin, body);
        }

        body?.Dispose();
        var detail = refusal switch
        {
            ProxyError.RequestTooLarge => ProblemResponses.PayloadTooLargeDetail,
            ProxyError.RequestInvalid when route.Kind == ReplayRouteKind.Legacy => "The upload must be a form (application/x-www-form-urlencoded, optionally gzip).",
            ProxyError.RequestInvalid => "The analytics body must be JSON (optionally gzip) with a top-level api_key.",
            _ => "The API key is not allowed to use this proxy.",
        };
        return await RefuseAsync(context, route, refusal, detail);
    }

    private async Task<Admission> RefuseAsync(HttpContext context, ReplayRoute route, ProxyError error, string detail)
    {
        var status = error.StatusCode();
        LogRefused(logger, route.Name, error.TagValue(), status);
        await ProblemResponses.WriteAsync(context, status, detail);
        return Admission.Answered(status, error);
    }

    private async Task<(ProxyError Refusal, PooledBuffer? Body)> CheckApiKeysAsync(HttpContext context, ReplayRoute route)
    {
        var request = context.Request;
        var keys = new List<string>(2);
        if (!ApiKeys.TryCollectFromRequest(request, route, keys))
        {
            return (ProxyError.ApiKeyRefused, null);
        }

        PooledBuffer? body = null;
        if (route.Upstream == UpstreamKind.Analytics)
        {
            body = new PooledBuffer((int)Math.Min(request.ContentLength ?? 4096, settings.MaxRequestBodyBytes) + 1);
            var error = await ReadBodyAsync(request, body, context.RequestAborted);
            var format = route.Kind == ReplayRouteKind.Legacy ? AnalyticsBodyFormat.Form : AnalyticsBodyFormat.Json;
            if (error == ProxyError.None && !ApiKeys.TryCollectFromAnalyticsBody(body.WrittenMemory, request.Headers.ContentEncoding.ToString(), format, settings.MaxRequestBodyBytes, keys))
            {
                error = ProxyError.RequestInvalid;
            }

            if (error != ProxyError.None)
            {
                return (error, body);
            }
        }

        var allowed = keys.Count > 0 && keys.TrueForAll(settings.ApiKeys.Allows);
        return (allowed ? ProxyError.None : ProxyError.ApiKeyRefused, body);
    }

    /// <summary>Buffers a body that has to be inspected (analytics, with a key allow-list); bounded by the body limit.</summary>
    private async Task<ProxyError> ReadBodyAsync(HttpRequest request, PooledBuffer body, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(body.GetMemory(16 * 1024), cancellationToken);
                if (read == 0)
                {
                    return ProxyError.None;
                }

                body.Advance(read);
                if (body.WrittenCount > settings.MaxRequestBodyBytes)
                {
                    return ProxyError.RequestTooLarge;
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            return ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? ProxyError.RequestTooLarge : ProxyError.RequestInvalid;
        }
    }

    private static async Task WriteHealthyAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        response.ContentLength = HealthyBody.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(HealthyBody);
        }
    }

    private static bool FrontDoorMatches(StringValues values, Guid expected) =>
        values.Count == 1 && Guid.TryParse(values[0], out var actual) && actual == expected;

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Refused {Route} request: {Reason}; answered {StatusCode}")]
    private static partial void LogRefused(ILogger logger, string route, string reason, int statusCode);
}

/// <summary>The gate's verdict: forward (with what it learnt on the way), or already answered with a status.</summary>
internal readonly record struct Admission(bool Forward, int Status, ProxyError Error, bool TrustEdge, string? Origin, PooledBuffer? Body)
{
    public static Admission Answered(int status, ProxyError error = ProxyError.None) => new(false, status, error, false, null, null);

    public static Admission Forwarded(bool trustEdge, string? origin, PooledBuffer? body) => new(true, 0, ProxyError.None, trustEdge, origin, body);
}
