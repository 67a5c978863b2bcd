using System.Net;
using System.Text;
using System.Text.Json;

namespace ReplayProxy.Tests.Integration;

/// <summary>Every route reaches its own upstream, with the path and query as the SDK sent them.</summary>
public abstract class RoutingTests<TProxy>(RoutingTests<TProxy>.Fixture fixture) : IClassFixture<RoutingTests<TProxy>.Fixture>
    where TProxy : IProxyKind
{
    private readonly FakeAmplitude _replay = fixture.Cleared().Replay;
    private readonly FakeAmplitude _config = fixture.Config;
    private readonly FakeAmplitude _analytics = fixture.Analytics;
    private readonly HttpClient _client = fixture.Client;

    /// <summary>One fake Amplitude host per upstream, and the proxy in front of them.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public FakeAmplitude Replay { get; private set; } = null!;

        public FakeAmplitude Config { get; private set; } = null!;

        public FakeAmplitude Analytics { get; private set; } = null!;

        public HttpClient Client { get; private set; } = null!;

        private IProxyUnderTest Proxy { get; set; } = null!;

        public async Task InitializeAsync()
        {
            Replay = await FakeAmplitude.StartAsync();
            Config = await FakeAmplitude.StartAsync();
            Analytics = await FakeAmplitude.StartAsync();
            Proxy = await TProxy.StartAsync(new ProxyUpstreams(Replay.BaseAddress, Config.BaseAddress, Analytics.BaseAddress));
            Client = Proxy.CreateClient();
        }

        /// <summary>Forgets what earlier tests of the class sent.</summary>
        public Fixture Cleared()
        {
            Replay.Clear();
            Config.Clear();
            Analytics.Clear();
            return this;
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await Proxy.DisposeAsync();
            await Replay.DisposeAsync();
            await Config.DisposeAsync();
            await Analytics.DisposeAsync();
        }
    }

    [Fact]
    public async Task Replay_upload_goes_to_the_replay_host_with_the_query_verbatim()
    {
        const string query = "?device_id=93025ae2-8b68&session_id=1795324787566&type=replay&x=%2F%20a+b";
        using var response = await _client.PostAsync("/sessions/v2/track" + query, new ByteArrayContent([1, 2, 3]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_replay.Received);
        Assert.Equal("POST", received.Method);
        Assert.Equal("/sessions/v2/track", received.Path);
        Assert.Equal(query, received.Query);
        Assert.Equal(_replay.BaseAddress.Authority, received.Host);
        Assert.Empty(_config.Received);
        Assert.Empty(_analytics.Received);
    }

    [Fact]
    public async Task Config_goes_to_the_config_host_keeping_the_key_segment_and_query()
    {
        using var response = await _client.GetAsync("/config/aaaabbbbccccddddeeeeffff00001111?config_group=browser");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.TryGetProperty("configs", out _));
        var received = Assert.Single(_config.Received);
        Assert.Equal("/config/aaaabbbbccccddddeeeeffff00001111", received.Path);
        Assert.Equal("?config_group=browser", received.Query);
        Assert.Equal(_config.BaseAddress.Authority, received.Host);
    }

    [Fact]
    public async Task Config_without_a_key_and_with_ios_parameters_is_forwarded()
    {
        using var bare = await _client.GetAsync("/config");
        using var ios = await _client.GetAsync("/config/key1?config_keys=a&config_keys=b&config_keys=c&config_keys=d");

        Assert.Equal(HttpStatusCode.OK, bare.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ios.StatusCode);
        Assert.Contains(_config.Received, r => r.Path == "/config" && r.Query == string.Empty);
        Assert.Contains(_config.Received, r => r.Path == "/config/key1" && r.Query == "?config_keys=a&config_keys=b&config_keys=c&config_keys=d");
    }

    [Fact]
    public async Task Config_head_is_forwarded_as_head()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/config/key1?config_group=browser");
        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("HEAD", Assert.Single(_config.Received).Method);
    }

    [Theory]
    [InlineData("/2/httpapi")]
    [InlineData("/batch")]
    public async Task Analytics_routes_go_to_the_analytics_host(string path)
    {
        using var response = await _client.PostAsync(path, new StringContent("""{"api_key":"k","events":[]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"code":200}""", await response.Content.ReadAsStringAsync());
        var received = Assert.Single(_analytics.Received);
        Assert.Equal(path, received.Path);
        Assert.Equal(_analytics.BaseAddress.Authority, received.Host);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    public async Task Health_answers_without_calling_upstream(string method)
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/healthz"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(method == "GET" ? """{"status":"healthy"}""" : string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Empty(_replay.Received.Concat(_config.Received).Concat(_analytics.Received));
    }

    [Theory]
    [InlineData("/index.html")]
    [InlineData("/sessions/v2/track/extra")]
    [InlineData("/sessions/v1/track")]
    [InlineData("/2/httpapi/x")]
    [InlineData("/admin")]
    [InlineData("/favicon.ico")]
    public async Task Unknown_paths_are_404_problem_details_and_never_forwarded(string path)
    {
        using var response = await _client.PostAsync(path, new ByteArrayContent([1]));

        // The same problem details on both hosts: the Functions app's one catch-all trigger hands every path to the
        // core's route table.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(404, json.RootElement.GetProperty("code").GetInt32());
        Assert.Empty(_replay.Received.Concat(_config.Received).Concat(_analytics.Received));
    }

    [Theory]
    [InlineData("GET", "/sessions/v2/track", "POST, OPTIONS")]
    [InlineData("PUT", "/sessions/v2/track", "POST, OPTIONS")]
    [InlineData("POST", "/config/key", "GET, HEAD, OPTIONS")]
    [InlineData("DELETE", "/config", "GET, HEAD, OPTIONS")]
    [InlineData("GET", "/2/httpapi", "POST, OPTIONS")]
    [InlineData("PATCH", "/batch", "POST, OPTIONS")]
    [InlineData("POST", "/healthz", "GET, HEAD")]
    [InlineData("GET", "/", "POST, OPTIONS")]
    [InlineData("GET", "/eu", "POST, OPTIONS")]
    [InlineData("HEAD", "/us/", "POST, OPTIONS")]
    public async Task Wrong_method_is_405_with_allow(string method, string path, string allow)
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
        if (method != "HEAD")
        {
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(405, json.RootElement.GetProperty("code").GetInt32());
        }

        Assert.Empty(_replay.Received.Concat(_config.Received).Concat(_analytics.Received));
    }

    [Fact]
    public async Task Upstream_base_path_is_kept()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        var withPath = new Uri(upstream.BaseAddress, "/staging/");
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(withPath));
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/config/k?config_group=browser");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/staging/config/k", Assert.Single(upstream.Received).Path);
    }
}

public sealed class StandaloneRoutingTests(RoutingTests<StandaloneProxy>.Fixture fixture) : RoutingTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsRoutingTests(RoutingTests<FunctionsProxy>.Fixture fixture) : RoutingTests<FunctionsProxy>(fixture);
