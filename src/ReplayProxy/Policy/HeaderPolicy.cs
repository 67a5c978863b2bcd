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
    /// trace context (none to a third party), what the HTTP client sets itself, and what the platform in front adds.</summary>
    private static readonly FrozenSet<string> RequestDropped = new[]
    {
        HeaderNames.Host, HeaderNames.Cookie, "Forwarded", "X-Real-IP", HeaderNames.ContentLength, HeaderNames.Expect,
        HeaderNames.TraceParent, HeaderNames.TraceState, HeaderNames.Baggage, HeaderNames.RequestId, HeaderNames.CorrelationContext,
        // The App Service front end (Functions apps run behind it): the client's address and the site's internal
        // names. X-Client-IP and X-Client-Port by name: X-Client-* is the SDKs' own prefix (X-Client-Version, ...).
        // Sources: the server variables in MicrosoftDocs/azure-docs articles/app-service/reference-app-settings.md,
        // and request dumps from App Service and Functions apps (tests/ReplayProxy.Testing/AppServiceFrontEnd.cs).
        "X-Client-IP", "X-Client-Port", "Client-IP", "Disguised-Host", "WAS-Default-Hostname", "X-Site-Deployment-Id",
        // Front Door's (Via: its hop; X-FD-HealthProbe is a prefix below). Max-Forwards: the front end's hop count,
        // meaningful only for TRACE and OPTIONS, which never go upstream.
        HeaderNames.Via, HeaderNames.MaxForwards,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whole families: client-forgeable forwarding, Front Door's (<c>X-Azure-</c>, <c>X-FD-</c>), the App Service
    /// front end's (<c>X-Original-</c>, <c>X-ARR-</c>, <c>X-WAWS-</c>, <c>X-AppService-</c>, <c>X-Forwarded-TlsVersion</c>),
    /// and the platform's and the Functions host's own <c>X-MS-</c> (<c>x-ms-invocation-id</c>).</summary>
    private static readonly string[] RequestDroppedPrefixes =
        ["X-Forwarded-", "X-Azure-", "X-FD-", "X-Original-", "X-ARR-", "X-WAWS-", "X-AppService-", "X-MS-", "Proxy-"];

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
