using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ReplayProxy.Functions.Tests;

/// <summary>
/// Platform CORS as Flex Consumption runs it: the test host with <c>CORS_ALLOWED_ORIGINS</c> and
/// <c>CORS_SUPPORT_CREDENTIALS</c> (the values the platform sets from <c>siteConfig.cors</c>) answers preflights itself
/// with ASP.NET Core's CORS middleware and sets the CORS headers on the worker's responses.
/// </summary>
[Collection(WorkerPathCollection.Name)]
public sealed class PlatformCorsTests(PlatformCorsTests.HostFixture fixture) : IClassFixture<PlatformCorsTests.HostFixture>
{
    /// <summary>Listed in platform CORS but not in the app's <c>ReplayProxy__AllowedOrigins</c>.</summary>
    private const string PlatformOnlyOrigin = "https://partner.example.com";

    /// <summary>What the platform sets for <c>cors: { allowedOrigins: [...], supportCredentials: true }</c>. Two origins:
    /// ASP.NET Core adds <c>Vary: Origin</c> only when the policy lists more than one.</summary>
    public static Dictionary<string, string?> PlatformCors(Uri upstream)
    {
        var settings = WorkerPath.Settings(upstream);
        settings["CORS_ALLOWED_ORIGINS"] = $"[\"{WorkerPath.AllowedOrigin}\",\"{PlatformOnlyOrigin}\"]";
        settings["CORS_SUPPORT_CREDENTIALS"] = "True";
        return settings;
    }

    [Theory]
    [InlineData("/sessions/v2/track?device_id=d1&session_id=1", "POST", "authorization,content-type,x-client-library")]
    [InlineData("/2/httpapi", "POST", "content-type")]
    [InlineData("/config/k3yAbc?config_group=browser", "GET", null)]
    public async Task A_preflight_from_a_listed_origin_is_answered_by_the_host_with_its_own_headers(string path, string method, string? requestHeaders)
    {
        using var response = await Preflight(path, WorkerPath.AllowedOrigin, method, requestHeaders);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var headers = Headers(response);
        Assert.Equal([WorkerPath.AllowedOrigin], headers["Access-Control-Allow-Origin"]);
        Assert.Equal(["true"], headers["Access-Control-Allow-Credentials"]);
        Assert.Equal([method], headers["Access-Control-Allow-Methods"]);
        if (requestHeaders is null)
        {
            Assert.False(headers.ContainsKey("Access-Control-Allow-Headers"));
        }
        else
        {
            Assert.Equal(requestHeaders.Split(','), headers["Access-Control-Allow-Headers"].SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)));
        }

        // The app's own preflight answer has Access-Control-Max-Age: 7200 and Allow: none of it is here.
        Assert.False(headers.ContainsKey("Access-Control-Max-Age"));
        Assert.False(headers.ContainsKey("Allow"));
        Assert.False(headers.ContainsKey("Access-Control-Expose-Headers"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("https://evil.example.com")]
    [InlineData("https://app.example.com.evil.example")]
    [InlineData("http://app.example.com")]
    public async Task A_preflight_from_an_origin_not_listed_gets_a_bare_204(string origin)
    {
        using var response = await Preflight("/sessions/v2/track?device_id=d1&session_id=1", origin, "POST", "content-type");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.DoesNotContain(Headers(response).Keys, name => name.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase) || name == "Vary");
    }

    [Fact]
    public async Task A_preflight_is_answered_ahead_of_function_routing()
    {
        using var response = await Preflight("/no/function/here", WorkerPath.AllowedOrigin, "POST", "content-type");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal([WorkerPath.AllowedOrigin], Headers(response)["Access-Control-Allow-Origin"]);
    }

    [Fact]
    public async Task On_an_actual_response_the_host_sets_origin_and_credentials_once_adds_Vary_and_keeps_the_apps_expose_headers()
    {
        using var response = await Upload(WorkerPath.AllowedOrigin);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = Headers(response);
        // The app writes both too: one value each means the host set them over the app's, not beside them.
        Assert.Equal([WorkerPath.AllowedOrigin], headers["Access-Control-Allow-Origin"]);
        Assert.Equal(["true"], headers["Access-Control-Allow-Credentials"]);
        Assert.Contains("Origin", headers["Vary"].SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)));
        Assert.Equal([CorsPolicyExposed], headers["Access-Control-Expose-Headers"]);
    }

    [Fact]
    public async Task An_origin_listed_only_in_platform_CORS_gets_the_hosts_headers_on_the_apps_refusal()
    {
        var upstream = fixture.Upstream;
        var before = upstream.Received.Count;

        using var response = await Upload(PlatformOnlyOrigin);

        // The app refuses the origin and writes no CORS headers of its own; every Access-Control header is the host's.
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var headers = Headers(response);
        Assert.Equal([PlatformOnlyOrigin], headers["Access-Control-Allow-Origin"]);
        Assert.Equal(["true"], headers["Access-Control-Allow-Credentials"]);
        Assert.Contains("Origin", headers["Vary"]);
        Assert.False(headers.ContainsKey("Access-Control-Expose-Headers"));
        Assert.Equal(before, upstream.Received.Count);
    }

    /// <summary>
    /// Counted by the worker itself: the proxy's <c>replay_proxy.requests</c> metric, exported by the real Azure Monitor
    /// exporter to a fake ingestion endpoint, has an OPTIONS entry for every request the worker answered.
    /// </summary>
    [Fact]
    public async Task The_worker_never_sees_a_preflight()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var ingestion = await FakeAmplitude.StartAsync();
        var settings = PlatformCors(upstream.BaseAddress);
        settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] =
            $"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={ingestion.BaseAddress}";
        await using var host = await FunctionsHostProcess.StartAsync(settings);
        using var client = ProxyClient.Create(host.BaseAddress);

        foreach (var origin in new[] { WorkerPath.AllowedOrigin, WorkerPath.AllowedOrigin, "https://evil.example.com" })
        {
            using var preflight = await Send(client, PreflightRequest("/sessions/v2/track?device_id=d1&session_id=1", origin, "POST", "content-type"));
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        }

        // Control: an OPTIONS without Access-Control-Request-Method is no preflight, so the host passes it on and the
        // worker counts it; it proves OPTIONS requests do show up in the metric.
        using (var plain = new HttpRequestMessage(HttpMethod.Options, "/2/httpapi"))
        {
            plain.Headers.Add("Origin", WorkerPath.AllowedOrigin);
            using var answer = await client.SendAsync(plain);
            Assert.Equal(WorkerPath.AllowedOrigin, Assert.Single(answer.Headers.GetValues("Access-Control-Allow-Origin")));
        }

        using (var upload = await Send(client, UploadRequest(WorkerPath.AllowedOrigin)))
        {
            Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        }

        // Stopping the host terminates the worker, which flushes its metrics.
        Assert.Equal(0, await host.StopAsync());

        var requests = Ingestion.Lines(ingestion).Where(l => l.Contains("\"name\":\"replay_proxy.requests\"", StringComparison.Ordinal)).ToList();
        Assert.Contains(requests, l => Is(l, "track", "POST"));
        Assert.Contains(requests, l => Is(l, "httpapi", "OPTIONS"));
        Assert.DoesNotContain(requests, l => Is(l, "track", "OPTIONS"));

        static bool Is(string line, string route, string method) =>
            line.Contains($"\"replay_proxy.route\":\"{route}\"", StringComparison.Ordinal)
            && line.Contains($"\"http.request.method\":\"{method}\"", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CORS_ALLOWED_ORIGINS", "https://app.example.com")]
    [InlineData("CORS_SUPPORT_CREDENTIALS", "yes")]
    public async Task A_malformed_platform_CORS_setting_stops_the_host_naming_it(string variable, string value)
    {
        var settings = PlatformCors(Loopback.ClosedAddress());
        settings[variable] = value;

        await using var host = await FunctionsHostProcess.RunToExitAsync(settings);

        Assert.NotEqual(0, await host.Exited);
        Assert.Contains(variable, host.Error, StringComparison.Ordinal);
    }

    private const string CorsPolicyExposed = "X-Session-Replay-Event-Skipped, X-Replay-Proxy-Spooled";

    private Task<HttpResponseMessage> Preflight(string path, string origin, string method, string? requestHeaders) =>
        Send(fixture.Client, PreflightRequest(path, origin, method, requestHeaders));

    private Task<HttpResponseMessage> Upload(string origin) => Send(fixture.Client, UploadRequest(origin));

    /// <summary>What Chromium sends before a cross-origin upload.</summary>
    private static HttpRequestMessage PreflightRequest(string path, string origin, string method, string? requestHeaders)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        if (requestHeaders is not null)
        {
            request.Headers.Add("Access-Control-Request-Headers", requestHeaders);
        }

        return request;
    }

    private static HttpRequestMessage UploadRequest(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/sessions/v2/track?device_id=d1&session_id=1&seq_number=1");
        request.Headers.Add("Origin", origin);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "k3yAbc");
        request.Content = new StringContent("""{"version":1,"events":["e"]}""", Encoding.UTF8, "application/json");
        return request;
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            return await client.SendAsync(request);
        }
    }

    /// <summary>Response and content headers together, by name (case-insensitive), values as sent.</summary>
    private static Dictionary<string, List<string>> Headers(HttpResponseMessage response) =>
        response.Headers.Concat(response.Content.Headers)
            .GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.SelectMany(h => h.Value).ToList(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The test host with platform CORS on, in front of a fake Amplitude.</summary>
    public sealed class HostFixture : IAsyncLifetime
    {
        public FakeAmplitude Upstream { get; private set; } = null!;

        public FunctionsHostProcess Host { get; private set; } = null!;

        public HttpClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Upstream = await FakeAmplitude.StartAsync();
            Host = await FunctionsHostProcess.StartAsync(PlatformCors(Upstream.BaseAddress));
            Client = ProxyClient.Create(Host.BaseAddress);
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await Host.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
