using System.Buffers;
using System.Collections.Frozen;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ReplayProxy;

/// <summary>Which headers cross the proxy in each direction. Static data; the forwarder only consults it.</summary>
internal static class HeaderPolicy
{
    /// <summary>Hop-by-hop headers (RFC 9110 §7.6.1) and the legacy proxy ones; never forwarded either way.</summary>
    private static readonly FrozenSet<string> HopByHop = new[]
    {
        HeaderNames.Connection, HeaderNames.KeepAlive, HeaderNames.TransferEncoding, HeaderNames.TE,
        HeaderNames.Trailer, HeaderNames.Upgrade, HeaderNames.ProxyAuthenticate, HeaderNames.ProxyAuthorization,
        "Proxy-Connection",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Request headers that never go to Amplitude: identity the client could forge, the site's cookies,
    /// trace context (none to a third party), and what the HTTP client sets itself.</summary>
    private static readonly FrozenSet<string> RequestDropped = new[]
    {
        HeaderNames.Host, HeaderNames.Cookie, "Forwarded", "X-Real-IP", HeaderNames.ContentLength, HeaderNames.Expect,
        HeaderNames.TraceParent, HeaderNames.TraceState, HeaderNames.Baggage, HeaderNames.RequestId, HeaderNames.CorrelationContext,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly string[] RequestDroppedPrefixes = ["X-Forwarded-", "X-Azure-", "X-Original-", "X-ARR-", "X-MS-", "Proxy-"];

    /// <summary>Response headers that never go back: cookies for Amplitude's domain, and Amplitude's own
    /// statements about its host (CORS is ours; Alt-Svc would point browsers at a protocol our host may not speak).</summary>
    private static readonly FrozenSet<string> ResponseDropped = new[]
    {
        HeaderNames.SetCookie, HeaderNames.AltSvc,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Headers a configured <c>UpstreamHeaders</c> entry may not set: they would break framing, routing or policy.</summary>
    private static readonly FrozenSet<string> ExtraHeaderForbidden = new[]
    {
        HeaderNames.Host, HeaderNames.ContentLength, HeaderNames.ContentType, HeaderNames.ContentEncoding,
        HeaderNames.Cookie, ClientAddress.ForwardedForHeader, HeaderNames.TransferEncoding, HeaderNames.Connection,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

    public static bool IsToken(ReadOnlySpan<char> name) => !name.IsEmpty && !name.ContainsAnyExcept(TokenChars);

    /// <remarks>No check for headers the client's <c>Connection</c> names: Kestrel leaves only the tokens it acts on
    /// (<c>keep-alive</c>, <c>close</c>, <c>upgrade</c>) in that header, so there are none to see.</remarks>
    public static bool ForwardRequestHeader(string name)
    {
        if (name.Length == 0 || name[0] == ':' || HopByHop.Contains(name) || RequestDropped.Contains(name))
        {
            return false;
        }

        foreach (var prefix in RequestDroppedPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    public static bool ForwardResponseHeader(string name, StringValues connectionTokens) =>
        !HopByHop.Contains(name)
        && !ResponseDropped.Contains(name)
        && !name.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase)
        && !NamedByConnection(name, connectionTokens);

    public static bool IsValidExtraUpstreamHeader(string name, string? value, out string problem) =>
        IsValidExtraUpstreamHeaderName(name, out problem) && IsValidExtraUpstreamHeaderValue(value, out problem);

    public static bool IsValidExtraUpstreamHeaderName(string name, out string problem)
    {
        if (!IsToken(name))
        {
            problem = "is not a valid header name.";
            return false;
        }

        if (ExtraHeaderForbidden.Contains(name) || HopByHop.Contains(name))
        {
            problem = "names a header the proxy controls itself; choose another header.";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    public static bool IsValidExtraUpstreamHeaderValue(string? value, out string problem)
    {
        if (value is null || value.AsSpan().ContainsAny('\r', '\n', '\0'))
        {
            problem = "must have a value without CR, LF or NUL characters.";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    /// <summary>Headers named in <c>Connection</c> are hop-by-hop too (RFC 9110 §7.6.1).</summary>
    private static bool NamedByConnection(string name, StringValues connectionTokens)
    {
        foreach (var value in connectionTokens)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                if (value.AsSpan()[range].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
