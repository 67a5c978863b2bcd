using System.Net;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Tests.Integration;

public abstract class HeaderPolicyTests<TProxy>(ProxyFixture<TProxy> fixture) : IClassFixture<ProxyFixture<TProxy>>
    where TProxy : IProxyKind
{
    private static HttpRequestMessage Upload(params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/sessions/v2/track?device_id=d&session_id=1&type=replay")
        {
            Content = new ByteArrayContent([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Content.Headers.TryAddWithoutValidation("Content-Encoding", "gzip");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private async Task<ReceivedRequest> SendAsync(HttpRequestMessage request)
    {
        fixture.Upstream.Clear();
        using var response = await fixture.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single(fixture.Upstream.Received);
    }

    [Fact]
    public async Task Sdk_headers_reach_upstream_unchanged()
    {
        var received = await SendAsync(Upload(
            ("Authorization", "Bearer aaaabbbbccccddddeeeeffff00001111"),
            ("Accept", "*/*"),
            ("User-Agent", "Mozilla/5.0 test"),
            ("Origin", "https://www.example.com"),
            ("X-Client-Version", "1.51.6"),
            ("X-Client-Library", "@amplitude/session-replay-browser"),
            ("X-Client-Url", "https://www.example.com/page?x=1"),
            ("X-Client-Sample-Rate", "1"),
            ("X-Sampling-Hash-Alg", "xxhash32"),
            ("X-Client-Bundle-Id", "com.example.app"),
            ("X-Client-Platform", "iOS")));

        Assert.Equal("Bearer aaaabbbbccccddddeeeeffff00001111", received.Header("Authorization"));
        Assert.Equal("*/*", received.Header("Accept"));
        Assert.Equal("Mozilla/5.0 test", received.Header("User-Agent"));
        Assert.Equal("https://www.example.com", received.Header("Origin"));
        Assert.Equal("1.51.6", received.Header("X-Client-Version"));
        Assert.Equal("@amplitude/session-replay-browser", received.Header("X-Client-Library"));
        Assert.Equal("https://www.example.com/page?x=1", received.Header("X-Client-Url"));
        Assert.Equal("1", received.Header("X-Client-Sample-Rate"));
        Assert.Equal("xxhash32", received.Header("X-Sampling-Hash-Alg"));
        Assert.Equal("com.example.app", received.Header("X-Client-Bundle-Id"));
        Assert.Equal("iOS", received.Header("X-Client-Platform"));
        Assert.Equal("application/json", received.Header("Content-Type"));
        Assert.Equal("gzip", received.Header("Content-Encoding"));
        Assert.Equal("8", received.Header("Content-Length"));
        Assert.Null(received.Header("Transfer-Encoding"));
        Assert.Equal(fixture.Upstream.BaseAddress.Authority, received.Host);
    }

    [Fact]
    public async Task Identity_trace_cookie_and_hop_by_hop_headers_are_not_forwarded()
    {
        var received = await SendAsync(Upload(
            ("Cookie", "session=site-secret"),
            ("X-Forwarded-For", "6.6.6.6"),
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Proto", "https"),
            ("Forwarded", "for=6.6.6.6"),
            ("X-Real-IP", "6.6.6.6"),
            ("X-Azure-ClientIP", "6.6.6.6"),
            ("X-Azure-FDID", Guid.NewGuid().ToString()),
            ("X-Original-URL", "/admin"),
            ("X-ARR-LOG-ID", "x"),
            ("X-MS-Client-Principal", "x"),
            ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("tracestate", "a=b"),
            ("baggage", "user=secret"),
            ("Proxy-Authorization", "Basic x"),
            ("Keep-Alive", "timeout=5"),
            ("Upgrade", "h2c"),
            ("TE", "trailers")));

        string[] forbidden =
        [
            "Cookie", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-IP", "X-Azure-ClientIP", "X-Azure-FDID",
            "X-Original-URL", "X-ARR-LOG-ID", "X-MS-Client-Principal", "traceparent", "tracestate", "baggage",
            "Proxy-Authorization", "Keep-Alive", "Upgrade", "TE",
        ];
        foreach (var name in forbidden)
        {
            Assert.True(received.Header(name) is null, $"{name} reached upstream");
        }

        Assert.DoesNotContain(received.Headers, h => h.Value.Contains("site-secret", StringComparison.Ordinal) || h.Value.Contains("6.6.6.6", StringComparison.Ordinal));
        Assert.Equal("127.0.0.1", Assert.Single(received.HeaderValues("X-Forwarded-For")));
    }

    /// <summary>A browser sends one serialized origin. Two <c>Origin</c> header lines reach the worker joined into one
    /// comma-separated value (the Functions host's forward joins them, as HttpClient does), so that form is refused too.</summary>
    [Theory]
    [InlineData("Origin: https://www.example.com\r\nOrigin: https://evil.example")]
    [InlineData("Origin: https://www.example.com, https://evil.example")]
    [InlineData("Origin: https://www.example.com,https://www.example.com")]
    public async Task Two_origins_or_a_comma_joined_origin_are_400_and_nothing_is_forwarded(string origins)
    {
        fixture.Upstream.Clear();
        var authority = fixture.Proxy.BaseAddress.Authority;
        var result = await RawHttp.SendAsync(fixture.Proxy.BaseAddress, System.Text.Encoding.ASCII.GetBytes(
            $"POST /sessions/v2/track?device_id=d&session_id=1 HTTP/1.1\r\nHost: {authority}\r\n{origins}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"));

        Assert.Equal(400, result.FirstStatus);
        Assert.Contains("application/problem+json", result.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Access-Control-Allow-Origin", result.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(fixture.Upstream.Received);
    }

    [Fact]
    public async Task Response_keeps_status_body_and_headers_minus_cookies_cors_and_hop_by_hop()
    {
        fixture.Upstream.Respond = static async (context, _) =>
        {
            context.Response.StatusCode = 200;
            context.Response.Headers["X-Session-Replay-Event-Skipped"] = "4005";
            context.Response.Headers["Set-Cookie"] = "AWSALB=upstream; Path=/";
            context.Response.Headers["Access-Control-Allow-Origin"] = "*";
            context.Response.Headers["Access-Control-Allow-Credentials"] = "false";
            context.Response.Headers["Connection"] = "X-Hop";
            context.Response.Headers["X-Hop"] = "1";
            context.Response.Headers["Alt-Svc"] = "h3=\":443\"";
            context.Response.Headers["X-Amplitude-Custom"] = "kept";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"code\":200}");
        };
        try
        {
            fixture.Upstream.Clear();
            using var request = Upload(("Origin", "https://www.example.com"));
            using var response = await fixture.Client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("{\"code\":200}", await response.Content.ReadAsStringAsync());
            Assert.Equal("4005", Assert.Single(response.Headers.GetValues("X-Session-Replay-Event-Skipped")));
            Assert.Equal("kept", Assert.Single(response.Headers.GetValues("X-Amplitude-Custom")));
            Assert.False(response.Headers.Contains("Set-Cookie"));
            Assert.False(response.Headers.Contains("X-Hop"));
            Assert.False(response.Headers.Contains("Alt-Svc"));
            Assert.Equal("https://www.example.com", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Equal("true", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Credentials")));
            Assert.Equal("X-Session-Replay-Event-Skipped, X-Replay-Proxy-Spooled", Assert.Single(response.Headers.GetValues("Access-Control-Expose-Headers")));
            Assert.Contains("Origin", response.Headers.Vary);
        }
        finally
        {
            fixture.Upstream.Respond = FakeAmplitude.DefaultRespond;
        }
    }

    /// <summary>The proxy never follows a redirect: the client gets Amplitude's 3xx and its Location as they are, and
    /// the upload is sent once, to the route's host only.</summary>
    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Upstream_redirect_is_relayed_never_followed(int status)
    {
        var location = new Uri(fixture.Upstream.BaseAddress, "/redirected/sessions/v2/track").ToString();
        fixture.Upstream.Respond = async (context, _) =>
        {
            context.Response.StatusCode = status;
            context.Response.Headers.Location = location;
            await context.Response.WriteAsync("moved");
        };
        try
        {
            fixture.Upstream.Clear();
            using var request = Upload();
            using var response = await fixture.Client.SendAsync(request);

            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal(location, response.Headers.Location?.ToString());
            Assert.Equal("moved", await response.Content.ReadAsStringAsync());
            Assert.Equal("/sessions/v2/track", Assert.Single(fixture.Upstream.Received).Path);
        }
        finally
        {
            fixture.Upstream.Respond = FakeAmplitude.DefaultRespond;
        }
    }

    [Fact]
    public async Task Upstream_errors_pass_through_with_body_and_headers()
    {
        foreach (var status in new[] { 400, 401, 413, 429, 500, 503 })
        {
            fixture.Upstream.Respond = async (context, _) =>
            {
                context.Response.StatusCode = status;
                context.Response.Headers["Retry-After"] = "7";
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync($"upstream says {status}: payload exceeded?");
            };
            try
            {
                using var request = Upload();
                using var response = await fixture.Client.SendAsync(request);

                Assert.Equal(status, (int)response.StatusCode);
                Assert.Equal($"upstream says {status}: payload exceeded?", await response.Content.ReadAsStringAsync());
                Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
                Assert.Equal("7", Assert.Single(response.Headers.GetValues("Retry-After")));
            }
            finally
            {
                fixture.Upstream.Respond = FakeAmplitude.DefaultRespond;
            }
        }
    }
}

public sealed class StandaloneHeaderPolicyTests(ProxyFixture<StandaloneProxy> fixture) : HeaderPolicyTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsHeaderPolicyTests(ProxyFixture<FunctionsProxy> fixture) : HeaderPolicyTests<FunctionsProxy>(fixture);
