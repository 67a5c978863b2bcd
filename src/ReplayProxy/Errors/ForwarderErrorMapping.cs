using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace ReplayProxy;

/// <summary>What a <see cref="ForwarderError"/> from YARP means for the client and for the logs.</summary>
internal static class ForwarderErrorMapping
{
    /// <param name="error">The stage that failed, as <see cref="IHttpForwarder.SendAsync(HttpContext, string, HttpMessageInvoker, ForwarderRequestConfig, HttpTransformer, CancellationToken)"/> returned it.</param>
    /// <param name="exception">The exception of <see cref="IForwarderErrorFeature"/>; YARP wraps a body failure and
    /// the send failure it caused in one <see cref="AggregateException"/>, the body's first.</param>
    /// <param name="clientAborted">The client's connection went away (<see cref="HttpContext.RequestAborted"/>).</param>
    public static ProxyError ToProxyError(ForwarderError error, Exception? exception, bool clientAborted)
    {
        // A failed read of Amplitude's body is Amplitude's: YARP then aborts the client connection itself, which can
        // already show as RequestAborted here.
        if (clientAborted && error != ForwarderError.ResponseBodyDestination)
        {
            return ProxyError.ClientAborted;
        }

        var cause = exception is AggregateException { InnerExceptions: [var first, ..] } ? first : exception;
        return error switch
        {
            ForwarderError.None => ProxyError.None,
            ForwarderError.RequestBodyClient => ClientBodyError(cause),
            ForwarderError.RequestTimedOut => ProxyError.UpstreamTimeout,
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyClient => ProxyError.ClientAborted,
            ForwarderError.ResponseBodyDestination or ForwarderError.ResponseBodyCanceled => ProxyError.UpstreamResponseAborted,
            ForwarderError.Request or ForwarderError.RequestBodyDestination => SendError(exception),
            _ => ProxyError.UpstreamProtocol,
        };
    }

    private static ProxyError ClientBodyError(Exception? cause) => cause switch
    {
        RequestBodyTooLargeException => ProxyError.RequestTooLarge,
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => ProxyError.RequestTooLarge,
        ConnectionResetException => ProxyError.ClientAborted,
        // Kestrel reports some malformed bodies as a plain IOException ("Bad chunk size data."). The client is still
        // there and must get an answer: treating it as gone would leave Kestrel to send an empty 200.
        _ => ProxyError.RequestInvalid,
    };

    private static ProxyError SendError(Exception? exception) =>
        ForSendFailure(exception as HttpRequestException
            ?? (exception as AggregateException)?.InnerExceptions.OfType<HttpRequestException>().FirstOrDefault());

    /// <summary>A failed send to Amplitude by its kind; also used by the config fallback, which sends its own request.</summary>
    public static ProxyError ForSendFailure(HttpRequestException? http) =>
        http?.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => ProxyError.UpstreamDns,
            HttpRequestError.ConnectionError => ProxyError.UpstreamConnect,
            HttpRequestError.SecureConnectionError => ProxyError.UpstreamTls,
            _ => ProxyError.UpstreamProtocol,
        };
}
