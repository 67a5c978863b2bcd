using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy;

/// <summary>
/// Errors the proxy makes itself: <c>application/problem+json</c> with a <c>code</c> equal to the status, because the
/// analytics SDK reads <c>code</c> from the body. Nothing from the request is echoed back.
/// </summary>
internal static class ProblemResponses
{
    public const string ContentType = "application/problem+json";

    /// <summary>The replay SDK splits a batch only when a 413 body matches <c>/payload.*exceed/i</c>.</summary>
    public const string PayloadTooLargeDetail = "Request payload size exceeded the proxy's limit; split the batch and retry.";

    public static async Task WriteAsync(HttpContext context, int status, string? detail = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";

        using var buffer = new PooledBuffer();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "about:blank");
            json.WriteString("title", Title(status));
            json.WriteNumber("status", status);
            json.WriteNumber("code", status);
            if (detail is not null)
            {
                json.WriteString("detail", detail);
            }

            json.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            // Awaited before the pooled buffer goes back to the pool.
            await response.Body.WriteAsync(buffer.WrittenMemory);
        }
    }

    public static Task MethodNotAllowed(HttpContext context, ReplayRoute route)
    {
        context.Response.Headers.Allow = route.AllowHeader;
        return WriteAsync(context, StatusCodes.Status405MethodNotAllowed, $"Allowed: {route.AllowHeader}.");
    }

    private static string Title(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "Bad request",
        StatusCodes.Status403Forbidden => "Forbidden",
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status405MethodNotAllowed => "Method not allowed",
        StatusCodes.Status413PayloadTooLarge => "Payload too large",
        StatusCodes.Status502BadGateway => "Bad gateway",
        StatusCodes.Status504GatewayTimeout => "Upstream timeout",
        _ => "Error",
    };
}
