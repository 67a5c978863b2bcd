using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ReplayProxy.ConfigFallback;

/// <summary>The answer from memory: the remembered config for a path and query while it is younger than the stale
/// limit, served <c>200</c> with its age, marked stale and not to be cached.</summary>
internal sealed class StaleConfig(ConfigMemory memory, TimeSpan staleLimit)
{
    public const string StaleHeader = "X-Replay-Proxy-Stale";
    internal const string StaleTag = "replay_proxy.config.stale";

    /// <summary>Off when the stale limit is 0: nothing is remembered or recalled.</summary>
    public bool Enabled => staleLimit > TimeSpan.Zero;

    public ConfigMemory Memory => memory;

    /// <summary>What may be served for <paramref name="key"/> to this client, if anything.</summary>
    public RememberedConfig? Recall(string key, HttpRequest request) =>
        Enabled && memory.Recall(key, staleLimit) is { } remembered && Accepts(request.Headers.AcceptEncoding, remembered.ContentEncoding)
            ? remembered
            : null;

    /// <summary>A remembered compressed body goes only to a client that accepts its coding.</summary>
    internal static bool Accepts(StringValues acceptEncoding, string? contentEncoding)
    {
        if (ConfigBody.IsIdentity(contentEncoding))
        {
            return true;
        }

        foreach (var value in acceptEncoding)
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var semicolon = part.IndexOf(';', StringComparison.Ordinal);
                var coding = semicolon < 0 ? part : part[..semicolon].TrimEnd();
                var refused = semicolon >= 0 && part[(semicolon + 1)..].Replace(" ", string.Empty, StringComparison.Ordinal) is "q=0" or "q=0.0" or "q=0.00" or "q=0.000";
                if (!refused && (coding == "*" || coding.Equals(contentEncoding, StringComparison.OrdinalIgnoreCase)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    public long AgeSeconds(RememberedConfig remembered) => (long)memory.AgeOf(remembered).TotalSeconds;

    public async Task<ConfigOutcome> WriteAsync(HttpContext context, RememberedConfig remembered, Activity? activity)
    {
        activity?.SetTag(StaleTag, true);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = remembered.ContentType ?? "application/json";
        if (!ConfigBody.IsIdentity(remembered.ContentEncoding))
        {
            response.Headers.ContentEncoding = remembered.ContentEncoding;
        }

        // Stale by design: no cache may keep it past the outage.
        response.Headers.CacheControl = "no-store";
        response.Headers.Age = AgeSeconds(remembered).ToString(CultureInfo.InvariantCulture);
        response.Headers[StaleHeader] = "true";
        response.ContentLength = remembered.Body.Length;
        try
        {
            await response.Body.WriteAsync(remembered.Body, context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return new(ProxyErrorExtensions.ClientClosedRequest, ProxyError.ClientAborted);
        }

        return new(StatusCodes.Status200OK, ProxyError.None, remembered.Body.Length);
    }
}
