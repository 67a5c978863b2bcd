using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace ReplayProxy.Tests.Unit;

public sealed class ForwarderErrorMappingTests
{
    public static TheoryData<ForwarderError, Exception?, string> Cases() => new()
    {
        { ForwarderError.Request, new HttpRequestException(HttpRequestError.NameResolutionError), "dns" },
        { ForwarderError.Request, new HttpRequestException(HttpRequestError.ConnectionError, inner: new SocketException()), "connection_failed" },
        { ForwarderError.Request, new HttpRequestException(HttpRequestError.SecureConnectionError), "tls" },
        { ForwarderError.Request, new HttpRequestException(HttpRequestError.InvalidResponse), "protocol" },
        { ForwarderError.RequestCreation, new InvalidOperationException(), "protocol" },
        { ForwarderError.RequestTimedOut, new TaskCanceledException(), "timeout" },
        { ForwarderError.ResponseHeaders, new InvalidOperationException(), "protocol" },
        { ForwarderError.ResponseBodyDestination, new IOException("reset"), "response_aborted" },
        { ForwarderError.ResponseBodyCanceled, new OperationCanceledException(), "response_aborted" },
        { ForwarderError.ResponseBodyClient, new IOException("client gone"), "client_aborted" },
        { ForwarderError.RequestCanceled, new OperationCanceledException(), "client_aborted" },
        // A body failure comes wrapped with the send failure it caused, the body's first.
        { ForwarderError.RequestBodyClient, Wrapped(new RequestBodyTooLargeException()), "request_too_large" },
        { ForwarderError.RequestBodyClient, Wrapped(new BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge)), "request_too_large" },
        { ForwarderError.RequestBodyClient, Wrapped(new BadHttpRequestException("bad chunk", StatusCodes.Status400BadRequest)), "request_invalid" },
        { ForwarderError.RequestBodyClient, Wrapped(new IOException("Bad chunk size data.")), "request_invalid" },
        { ForwarderError.RequestBodyClient, Wrapped(new ConnectionResetException("reset")), "client_aborted" },
        { ForwarderError.RequestBodyDestination, Wrapped(new IOException("broken pipe"), HttpRequestError.ConnectionError), "connection_failed" },
        { ForwarderError.RequestBodyDestination, Wrapped(new IOException("broken pipe"), HttpRequestError.Unknown), "protocol" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_forwarder_failure_maps_to_the_error_the_client_and_the_logs_see(ForwarderError error, Exception? exception, string expectedTag) =>
        Assert.Equal(expectedTag, ForwarderErrorMapping.ToProxyError(error, exception, clientAborted: false).TagValue());

    [Theory]
    [InlineData(ForwarderError.Request)]
    [InlineData(ForwarderError.RequestTimedOut)]
    [InlineData(ForwarderError.RequestBodyClient)]
    [InlineData(ForwarderError.ResponseBodyCanceled)]
    [InlineData(ForwarderError.ResponseBodyClient)]
    public void A_client_that_went_away_is_client_aborted_whatever_stage_failed(ForwarderError error) =>
        Assert.Equal("client_aborted", ForwarderErrorMapping.ToProxyError(error, new IOException(), clientAborted: true).TagValue());

    /// <summary>YARP aborts the client connection when Amplitude's body fails; that abort is not the client's doing.</summary>
    [Fact]
    public void Amplitude_body_failing_stays_upstream_even_once_the_connection_is_aborted() =>
        Assert.Equal("response_aborted", ForwarderErrorMapping.ToProxyError(ForwarderError.ResponseBodyDestination, new IOException(), clientAborted: true).TagValue());

    [Fact]
    public void No_error_is_none() =>
        Assert.Equal(ProxyError.None, ForwarderErrorMapping.ToProxyError(ForwarderError.None, null, clientAborted: false));

    private static AggregateException Wrapped(Exception body, HttpRequestError sendError = HttpRequestError.Unknown) =>
        new(body, new HttpRequestException(sendError, "Error while copying content to a stream.", body));
}
