using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ReplayProxy;

/// <summary>
/// CORS as the SDKs need it: the exact origin with credentials (the page-exit beacon is credentialed, and the browser
/// drops it on <c>*</c>), every requested header allowed, and the replay skip and spooled headers exposed.
/// </summary>
internal static class CorsPolicy
{
    public const string EventSkippedHeader = "X-Session-Replay-Event-Skipped";
    public const string MaxAgeSeconds = "7200";

    /// <summary>What the page may read besides the simple headers: the replay SDK's skip signal, and the mark on an
    /// upload the proxy kept through an Amplitude outage.</summary>
    public const string ExposedHeaders = EventSkippedHeader + ", " + Spool.OutageSpool.SpooledHeader;

    public static void AddResponseHeaders(HttpResponse response, string origin)
    {
        var headers = response.Headers;
        headers.AccessControlAllowOrigin = origin;
        headers.AccessControlAllowCredentials = "true";
        headers.AccessControlExposeHeaders = ExposedHeaders;
        headers.Append(HeaderNames.Vary, HeaderNames.Origin);
    }

    /// <summary>Answers a preflight; the caller has already checked the origin.</summary>
    public static void WritePreflight(HttpContext context, ReplayRoute route, string? origin)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status204NoContent;
        response.Headers.Allow = route.AllowHeader;
        if (origin is null)
        {
            return;
        }

        var headers = response.Headers;
        headers.AccessControlAllowOrigin = origin;
        headers.AccessControlAllowCredentials = "true";
        headers.AccessControlAllowMethods = route.AllowHeader;
        var requested = RequestedHeaders(context.Request.Headers.AccessControlRequestHeaders);
        if (requested.Length > 0)
        {
            headers.AccessControlAllowHeaders = requested;
        }

        headers.AccessControlMaxAge = MaxAgeSeconds;
        headers.Vary = "Origin, Access-Control-Request-Headers";
    }

    /// <summary>The requested header names, keeping only well-formed tokens so nothing else is reflected.</summary>
    internal static string RequestedHeaders(StringValues requested)
    {
        var names = new List<string>();
        foreach (var value in requested)
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (HeaderPolicy.IsToken(part))
                {
                    names.Add(part.ToLowerInvariant());
                }
            }
        }

        return string.Join(", ", names);
    }
}
