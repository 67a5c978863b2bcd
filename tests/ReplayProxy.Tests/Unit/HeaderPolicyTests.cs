using Microsoft.Extensions.Primitives;

namespace ReplayProxy.Tests.Unit;

public sealed class HeaderPolicyUnitTests
{
    [Theory]
    [InlineData("Authorization")]
    [InlineData("Accept")]
    [InlineData("User-Agent")]
    [InlineData("Origin")]
    [InlineData("X-Client-Url")]
    [InlineData("X-Client-Version")]
    [InlineData("X-Client-Library")]
    [InlineData("X-Client-Sample-Rate")]
    [InlineData("X-Client-Bundle-Id")]
    [InlineData("X-Client-Platform")]
    [InlineData("X-Sampling-Hash-Alg")]
    [InlineData("Content-Type")]
    [InlineData("Content-Encoding")]
    public void Sdk_headers_are_forwarded(string name) => Assert.True(HeaderPolicy.ForwardRequestHeader(name));

    [Theory]
    [InlineData("Host")]
    [InlineData("Cookie")]
    [InlineData("cookie")]
    [InlineData("Content-Length")]
    [InlineData("Connection")]
    [InlineData("Keep-Alive")]
    [InlineData("Transfer-Encoding")]
    [InlineData("TE")]
    [InlineData("Trailer")]
    [InlineData("Upgrade")]
    [InlineData("Proxy-Authorization")]
    [InlineData("Proxy-Anything")]
    [InlineData("Forwarded")]
    [InlineData("X-Forwarded-For")]
    [InlineData("x-forwarded-proto")]
    [InlineData("X-Real-IP")]
    [InlineData("X-Azure-FDID")]
    [InlineData("X-Azure-ClientIP")]
    [InlineData("X-Original-Host")]
    [InlineData("X-ARR-SSL")]
    [InlineData("X-MS-Token")]
    [InlineData("traceparent")]
    [InlineData("tracestate")]
    [InlineData("baggage")]
    [InlineData(":authority")]
    [InlineData("X-Client-IP")]
    [InlineData("x-client-port")]
    [InlineData("CLIENT-IP")]
    [InlineData("DISGUISED-HOST")]
    [InlineData("WAS-DEFAULT-HOSTNAME")]
    [InlineData("X-SITE-DEPLOYMENT-ID")]
    [InlineData("X-WAWS-Unencoded-URL")]
    [InlineData("X-AppService-Proto")]
    [InlineData("Max-Forwards")]
    [InlineData("x-ms-invocation-id")]
    [InlineData("X-FD-HealthProbe")]
    [InlineData("Via")]
    public void Dropped_request_headers(string name) => Assert.False(HeaderPolicy.ForwardRequestHeader(name));

    [Fact]
    public void Response_headers_named_in_connection_are_dropped()
    {
        var connection = new StringValues(["keep-alive, X-Drop-Me", "x-other"]);

        Assert.False(HeaderPolicy.ForwardResponseHeader("x-drop-me", connection));
        Assert.False(HeaderPolicy.ForwardResponseHeader("X-Other", connection));
        Assert.True(HeaderPolicy.ForwardResponseHeader("X-Keep", connection));
    }

    [Theory]
    [InlineData("Set-Cookie", false)]
    [InlineData("Access-Control-Allow-Origin", false)]
    [InlineData("access-control-expose-headers", false)]
    [InlineData("Transfer-Encoding", false)]
    [InlineData("Alt-Svc", false)]
    [InlineData("X-Session-Replay-Event-Skipped", true)]
    [InlineData("Content-Type", true)]
    [InlineData("Retry-After", true)]
    public void Response_headers(string name, bool forwarded) =>
        Assert.Equal(forwarded, HeaderPolicy.ForwardResponseHeader(name, StringValues.Empty));

    [Theory]
    [InlineData("X-Api-Secret", "v", true)]
    [InlineData("Host", "v", false)]
    [InlineData("Cookie", "v", false)]
    [InlineData("Content-Length", "1", false)]
    [InlineData("X-Forwarded-For", "1.2.3.4", false)]
    [InlineData("Bad Name", "v", false)]
    [InlineData("X-Ok", "a\r\nInjected: 1", false)]
    public void Extra_upstream_headers_are_validated(string name, string value, bool valid) =>
        Assert.Equal(valid, HeaderPolicy.IsValidExtraUpstreamHeader(name, value, out _));
}
