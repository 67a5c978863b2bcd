using Microsoft.AspNetCore.Http;

namespace ReplayProxy;

/// <summary>Why a request did not complete normally; each kind maps to one status the client sees.</summary>
internal enum ProxyError
{
    None,
    FrontDoorRefused,
    OriginRefused,
    ApiKeyRefused,
    RequestInvalid,
    RequestTooLarge,
    ClientAborted,
    UpstreamDns,
    UpstreamConnect,
    UpstreamTls,
    UpstreamTimeout,
    UpstreamProtocol,
    UpstreamResponseAborted,
}

internal static class ProxyErrorExtensions
{
    /// <summary>Nginx's convention for a client that went away before the answer.</summary>
    public const int ClientClosedRequest = 499;

    public static int StatusCode(this ProxyError error) => error switch
    {
        ProxyError.None => StatusCodes.Status200OK,
        ProxyError.FrontDoorRefused or ProxyError.OriginRefused or ProxyError.ApiKeyRefused => StatusCodes.Status403Forbidden,
        ProxyError.RequestInvalid => StatusCodes.Status400BadRequest,
        ProxyError.RequestTooLarge => StatusCodes.Status413PayloadTooLarge,
        ProxyError.ClientAborted => ClientClosedRequest,
        ProxyError.UpstreamTimeout => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status502BadGateway,
    };

    public static string TagValue(this ProxyError error) => error switch
    {
        ProxyError.FrontDoorRefused => "front_door_refused",
        ProxyError.OriginRefused => "origin_refused",
        ProxyError.ApiKeyRefused => "api_key_refused",
        ProxyError.RequestInvalid => "request_invalid",
        ProxyError.RequestTooLarge => "request_too_large",
        ProxyError.ClientAborted => "client_aborted",
        ProxyError.UpstreamDns => "dns",
        ProxyError.UpstreamConnect => "connection_failed",
        ProxyError.UpstreamTls => "tls",
        ProxyError.UpstreamTimeout => "timeout",
        ProxyError.UpstreamProtocol => "protocol",
        ProxyError.UpstreamResponseAborted => "response_aborted",
        _ => "none",
    };

    public static bool IsUpstream(this ProxyError error) => error >= ProxyError.UpstreamDns;
}
