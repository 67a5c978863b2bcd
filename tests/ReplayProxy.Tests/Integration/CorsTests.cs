using System.Net;

namespace ReplayProxy.Tests.Integration;

public abstract class CorsTests<TProxy>(CorsTests<TProxy>.Fixture fixture) : IClassFixture<CorsTests<TProxy>.Fixture>
    where TProxy : IProxyKind
{
    private const string Allowed = "https://www.example.com";
    private readonly FakeAmplitude _upstream = fixture.Cleared();
    private readonly HttpClient _client = fixture.Client;

    /// <summary>The proxy with two allowed origins.</summary>
    public sealed class Fixture : ProxyFixture<TProxy>
    {
        protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
        {
            ["AllowedOrigins"] = $"{Allowed}, https://app.example.com:8443",
        };
    }

    private static HttpRequestMessage Preflight(string path, string origin, string requestHeaders)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", requestHeaders);
        return request;
    }

    [Theory]
    [InlineData("/sessions/v2/track?device_id=d&session_id=1", "POST, OPTIONS")]
    [InlineData("/2/httpapi", "POST, OPTIONS")]
    [InlineData("/batch", "POST, OPTIONS")]
    [InlineData("/config/key", "GET, HEAD, OPTIONS")]
    public async Task Preflight_allows_the_exact_origin_with_credentials_and_every_sdk_header(string path, string methods)
    {
        const string sdkHeaders = "authorization,content-encoding,content-type,x-client-library,x-client-sample-rate,x-client-url,x-client-version,x-sampling-hash-alg,x-client-bundle-id,x-client-platform";
        using var response = await _client.SendAsync(Preflight(path, Allowed, sdkHeaders));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Allowed, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("true", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Credentials")));
        Assert.Equal(methods, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Methods")));
        var allowed = Assert.Single(response.Headers.GetValues("Access-Control-Allow-Headers")).Split(", ");
        Assert.Equal(sdkHeaders.Split(','), allowed);
        Assert.Equal("7200", Assert.Single(response.Headers.GetValues("Access-Control-Max-Age")));
        Assert.Contains("Origin", response.Headers.Vary);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Preflight_reflects_only_well_formed_header_names()
    {
        using var response = await _client.SendAsync(Preflight("/2/httpapi", Allowed, "content-type, x-bad header, <script>, x-ok"));

        Assert.Equal("content-type, x-ok", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Headers")));
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("null")]
    [InlineData("https://www.example.com/")]
    [InlineData("https://WWW.EXAMPLE.COM")]
    [InlineData("https://www.example.com:444")]
    [InlineData("http://www.example.com")]
    [InlineData("https://app.example.com")]
    public async Task Disallowed_origin_gets_403_without_cors_headers_and_nothing_is_forwarded(string origin)
    {
        using var preflight = await _client.SendAsync(Preflight("/sessions/v2/track", origin, "content-type"));
        using var post = new HttpRequestMessage(HttpMethod.Post, "/sessions/v2/track?device_id=d&session_id=1") { Content = new ByteArrayContent([1]) };
        post.Headers.TryAddWithoutValidation("Origin", origin);
        using var response = await _client.SendAsync(post);
        using var config = new HttpRequestMessage(HttpMethod.Get, "/config/key");
        config.Headers.TryAddWithoutValidation("Origin", origin);
        using var configResponse = await _client.SendAsync(config);

        foreach (var r in new[] { preflight, response, configResponse })
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.False(r.Headers.Contains("Access-Control-Allow-Origin"));
            Assert.False(r.Headers.Contains("Access-Control-Allow-Credentials"));
        }

        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Listed_origin_with_port_and_requests_without_origin_are_forwarded()
    {
        using var withPort = new HttpRequestMessage(HttpMethod.Get, "/config/key");
        withPort.Headers.TryAddWithoutValidation("Origin", "https://app.example.com:8443");
        using var portResponse = await _client.SendAsync(withPort);
        using var mobile = await _client.GetAsync("/config/key");

        Assert.Equal(HttpStatusCode.OK, portResponse.StatusCode);
        Assert.Equal("https://app.example.com:8443", Assert.Single(portResponse.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal(HttpStatusCode.OK, mobile.StatusCode);
        Assert.False(mobile.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(2, _upstream.Received.Count);
    }

    [Fact]
    public async Task Proxy_made_errors_carry_cors_headers_so_the_browser_can_read_them()
    {
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/sessions/v2/track"))
        {
            request.Headers.TryAddWithoutValidation("Origin", Allowed);
            using var response = await _client.SendAsync(request);

            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
            Assert.Equal(Allowed, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        }

        using var tooLarge = new HttpRequestMessage(HttpMethod.Post, "/sessions/v2/track") { Content = new ByteArrayContent(new byte[10]) };
        tooLarge.Headers.TryAddWithoutValidation("Origin", Allowed);
        tooLarge.Content.Headers.ContentLength = 10;
        await using var small = await TProxy.StartAsync(ProxyUpstreams.All(_upstream.BaseAddress), new Dictionary<string, string?> { ["AllowedOrigins"] = Allowed, ["MaxRequestBodyBytes"] = "5" });
        using var smallClient = small.CreateClient();
        using var tooLargeResponse = await smallClient.SendAsync(tooLarge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLargeResponse.StatusCode);
        Assert.Equal(Allowed, Assert.Single(tooLargeResponse.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("true", Assert.Single(tooLargeResponse.Headers.GetValues("Access-Control-Allow-Credentials")));
        Assert.Equal(["Origin"], tooLargeResponse.Headers.Vary);
    }
}

public sealed class StandaloneCorsTests(CorsTests<StandaloneProxy>.Fixture fixture) : CorsTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsCorsTests(CorsTests<FunctionsProxy>.Fixture fixture) : CorsTests<FunctionsProxy>(fixture);
