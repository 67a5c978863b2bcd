using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ReplayProxy.Tests.Integration;

/// <summary>
/// Both regions in one deployment (issue 13 part 2) on real sockets: <c>/eu/...</c> and <c>/us/...</c> pin the
/// Amplitude region of every proxied route, the upstream gets the path without the prefix and the query verbatim.
/// Three fakes stand in for the hosts: <c>Plain</c> behind <c>Upstreams:Replay|Config|Analytics</c> (the configured
/// region's hosts), <c>Eu</c> behind <c>Upstreams:Eu*</c> and <c>Us</c> behind <c>Upstreams:Us*</c>.
/// </summary>
public sealed class RegionPrefixTests : IAsyncLifetime
{
    private const string Origin = "https://shop.example.com";
    private const string Key = "k3yRegion0123";

    private FakeAmplitude _plain = null!;
    private FakeAmplitude _eu = null!;
    private FakeAmplitude _us = null!;

    public async Task InitializeAsync()
    {
        _plain = await FakeAmplitude.StartAsync();
        _eu = await FakeAmplitude.StartAsync();
        _us = await FakeAmplitude.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _plain.DisposeAsync();
        await _eu.DisposeAsync();
        await _us.DisposeAsync();
    }

    public static TheoryData<string, string, string> Routes => new()
    {
        { "POST", "/sessions/v2/track", "?device_id=d1&session_id=1700000000000&type=replay" },
        { "POST", "/sessions/v2/track", "?device_id=d1&session_id=1&type=interaction&api_key=" + Key },
        { "GET", "/config/" + Key, "?config_group=browser" },
        { "HEAD", "/config/" + Key, "?config_keys=sessionReplay.sr_ios_privacy_config" },
        { "GET", "/config", "?api_key=" + Key + "&config_keys=a&config_keys=b" },
        { "GET", "/config/a%2Fb", "?x=%2F%3F%20" },
        { "POST", "/2/httpapi", string.Empty },
        { "POST", "/batch", "?v=1" },
    };

    /// <summary>Region US: <c>/eu</c> goes to the EU hosts; <c>/us</c> and unprefixed paths to the US (configured) ones,
    /// which <c>Upstreams:*</c> replaces.</summary>
    [Theory]
    [MemberData(nameof(Routes))]
    public async Task With_region_US_each_prefix_reaches_its_regions_host_with_the_unprefixed_path(string method, string path, string query)
    {
        await using var proxy = await StartAsync("US", eu: true, us: false);

        await AssertReachesAsync(proxy, method, "/eu" + path + query, _eu, path, query);
        await AssertReachesAsync(proxy, method, "/us" + path + query, _plain, path, query);
        await AssertReachesAsync(proxy, method, path + query, _plain, path, query);
    }

    /// <summary>Region EU: <c>Upstreams:*</c> now replaces the EU hosts (unprefixed and <c>/eu</c>); <c>/us</c> uses
    /// <c>Upstreams:Us*</c>, never the plain overrides.</summary>
    [Theory]
    [MemberData(nameof(Routes))]
    public async Task With_region_EU_plain_overrides_serve_eu_and_unprefixed_paths_and_us_has_its_own(string method, string path, string query)
    {
        await using var proxy = await StartAsync("EU", eu: false, us: true);

        await AssertReachesAsync(proxy, method, "/eu" + path + query, _plain, path, query);
        await AssertReachesAsync(proxy, method, "/us" + path + query, _us, path, query);
        await AssertReachesAsync(proxy, method, path + query, _plain, path, query);
    }

    [Fact]
    public async Task The_region_prefix_is_case_insensitive()
    {
        await using var proxy = await StartAsync("US", eu: true, us: false);

        await AssertReachesAsync(proxy, "POST", "/EU/sessions/v2/track?device_id=d", _eu, "/sessions/v2/track", "?device_id=d");
        await AssertReachesAsync(proxy, "GET", "/Eu/config/" + Key + "?q=1", _eu, "/config/" + Key, "?q=1");
    }

    [Theory]
    [InlineData("/eu/sessions/v2/track", "POST, OPTIONS")]
    [InlineData("/us/sessions/v2/track", "POST, OPTIONS")]
    [InlineData("/eu/config/" + Key, "GET, HEAD, OPTIONS")]
    [InlineData("/eu/2/httpapi", "POST, OPTIONS")]
    [InlineData("/us/batch", "POST, OPTIONS")]
    public async Task Preflight_on_a_prefixed_path_allows_the_sdk_headers_with_credentials_and_calls_no_upstream(string path, string methods)
    {
        await using var proxy = await StartAsync("US", eu: true, us: true, ("AllowedOrigins", Origin));
        using var client = proxy.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Options, path + "?device_id=d&api_key=" + Key);
        request.Headers.Add("Origin", Origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type,content-encoding,x-client-version,x-client-library,x-client-url,x-client-sample-rate,x-sampling-hash-alg");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Origin, Single(response, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Single(response, "Access-Control-Allow-Credentials"));
        Assert.Equal(methods, Single(response, "Access-Control-Allow-Methods"));
        Assert.Equal("content-type, content-encoding, x-client-version, x-client-library, x-client-url, x-client-sample-rate, x-sampling-hash-alg", Single(response, "Access-Control-Allow-Headers"));
        Assert.Empty(_plain.Received);
        Assert.Empty(_eu.Received);
        Assert.Empty(_us.Received);
    }

    /// <summary>Only <c>eu</c> and <c>us</c> are prefixes, only in front of a proxied route, and only once. Health
    /// describes the instance, not a region, so it has no prefixed form.</summary>
    [Theory]
    [InlineData("POST", "/xx/sessions/v2/track")]
    [InlineData("GET", "/xx/config/" + Key)]
    [InlineData("POST", "/de/2/httpapi")]
    [InlineData("POST", "/eu/eu/batch")]
    [InlineData("POST", "/eu-central/batch")]
    [InlineData("POST", "/eusessions/v2/track")]
    [InlineData("GET", "/eu/healthz")]
    [InlineData("GET", "/us/healthz/upstreams")]
    [InlineData("POST", "/sessions/v2/track/eu")]
    public async Task Unknown_or_misplaced_prefixes_are_404_and_reach_no_upstream(string method, string path)
    {
        await using var proxy = await StartAsync("US", eu: true, us: true);
        using var client = proxy.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new ByteArrayContent("""{"api_key":"k","events":[]}"""u8.ToArray());
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_plain.Received);
        Assert.Empty(_eu.Received);
        Assert.Empty(_us.Received);
    }

    [Fact]
    public async Task A_prefixed_route_answers_other_methods_405_with_its_allow_header()
    {
        await using var proxy = await StartAsync("US", eu: true, us: true);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/eu/sessions/v2/track");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("POST, OPTIONS", string.Join(", ", response.Content.Headers.Allow));
        Assert.Empty(_eu.Received);
    }

    /// <summary>The key in <c>/eu/config/&lt;key&gt;</c> is read past the prefix, so the allow-list works there too.</summary>
    [Fact]
    public async Task The_api_key_allow_list_reads_the_config_key_behind_a_prefix()
    {
        await using var proxy = await StartAsync("US", eu: true, us: true, ("AllowedApiKeys", Key));
        using var client = proxy.CreateClient();

        using var allowed = await client.GetAsync("/eu/config/" + Key + "?config_group=browser");
        using var refused = await client.GetAsync("/eu/config/otherKey99?config_group=browser");
        using var refusedUs = await client.GetAsync("/us/config/otherKey99?config_group=browser");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refusedUs.StatusCode);
        Assert.Equal("/config/" + Key, Assert.Single(_eu.Received).Path);
        Assert.Empty(_us.Received);
    }

    /// <summary>A config answer remembered from one region is never served for the other when it fails.</summary>
    [Fact]
    public async Task Remembered_config_answers_stay_with_their_region()
    {
        await using var proxy = await StartAsync("US", eu: true, us: true);
        using var client = proxy.CreateClient();
        var path = "/config/" + Key + "?config_group=browser";
        using (var first = await client.GetAsync("/eu" + path))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        _eu.Respond = Unavailable;
        _us.Respond = Unavailable;

        using var euAgain = await client.GetAsync("/eu" + path);
        using var us = await client.GetAsync("/us" + path);

        Assert.Equal(HttpStatusCode.OK, euAgain.StatusCode);
        Assert.Equal("true", Single(euAgain, "X-Replay-Proxy-Stale"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, us.StatusCode);
        Assert.False(us.Headers.Contains("X-Replay-Proxy-Stale"));
    }

    [Fact]
    public async Task Requests_are_tagged_with_their_region_and_the_route_without_prefix()
    {
        await using var proxy = await StartAsync("US", eu: true, us: true);
        var requests = new ConcurrentQueue<IReadOnlyDictionary<string, object?>>();
        var factory = proxy.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "replay_proxy.requests" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var (k, v) in tags)
            {
                copy[k] = v;
            }

            requests.Enqueue(copy);
        });
        listener.Start();
        using var client = proxy.CreateClient();

        (await client.PostAsync("/eu/sessions/v2/track?api_key=" + Key, Json())).Dispose();
        (await client.GetAsync("/config/" + Key)).Dispose();
        (await client.GetAsync("/healthz")).Dispose();

        // Each is recorded after its answer is written: wait for the three measurements.
        await Eventually.WaitUntil(() => requests.Count >= 3, TimeSpan.FromSeconds(10));
        Assert.Contains(requests, t => Equals(t["replay_proxy.route"], "track") && Equals(t["replay_proxy.region"], "eu"));
        Assert.Contains(requests, t => Equals(t["replay_proxy.route"], "config") && Equals(t["replay_proxy.region"], "us"));
        Assert.Contains(requests, t => Equals(t["replay_proxy.route"], "health") && !t.ContainsKey("replay_proxy.region"));
        Assert.DoesNotContain(requests, t => t.Values.Any(v => v?.ToString()?.Contains(Key, StringComparison.Ordinal) == true));
    }

    /// <summary>One-region deployments probe the configured region's hosts only; once a prefix of the other region is
    /// used, the check covers its hosts too, each listed with the regions it serves.</summary>
    [Fact]
    public async Task Upstream_diagnostics_cover_the_other_region_once_its_prefix_is_used()
    {
        await using var quiet = await StartAsync("US", eu: true, us: false);
        using (var quietClient = quiet.CreateClient())
        {
            var before = await UpstreamsAsync(quietClient);
            var only = Assert.Single(before);
            Assert.Equal(_plain.BaseAddress.Port, only.Port);
            Assert.Equal(["US"], only.Regions);
        }

        await using var busy = await StartAsync("US", eu: true, us: false);
        using var client = busy.CreateClient();
        (await client.PostAsync("/eu/2/httpapi", Json())).Dispose();
        var upstreams = await UpstreamsAsync(client);

        Assert.Equal(2, upstreams.Count);
        var us = Assert.Single(upstreams, u => u.Port == _plain.BaseAddress.Port);
        var eu = Assert.Single(upstreams, u => u.Port == _eu.BaseAddress.Port);
        Assert.Equal(["US"], us.Regions);
        Assert.Equal(["EU"], eu.Regions);
        Assert.Equal(["replay", "config", "analytics"], eu.UsedBy);
        Assert.True(eu.Reachable);
    }

    [Fact]
    public async Task Diagnostics_settings_name_the_region_override_hosts_only()
    {
        await using var proxy = await StartAsync("US", eu: true, us: false);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/healthz/upstreams");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var overrides = json.RootElement.GetProperty("settings").GetProperty("upstreamOverrides");

        Assert.Equal("127.0.0.1", overrides.GetProperty("replay").GetString());
        Assert.Equal("127.0.0.1", overrides.GetProperty("euReplay").GetString());
        Assert.Equal("127.0.0.1", overrides.GetProperty("euAnalytics").GetString());
        Assert.False(overrides.TryGetProperty("usReplay", out _));
        Assert.DoesNotContain(_eu.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), overrides.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EU", "Upstreams:EuReplay", "ReplayProxy:Upstreams:Replay and ReplayProxy:Upstreams:EuReplay both replace the EU replay host")]
    [InlineData("us", "Upstreams:UsConfig", "ReplayProxy:Upstreams:Config and ReplayProxy:Upstreams:UsConfig both replace the US config host")]
    public async Task A_plain_and_a_region_override_of_the_configured_regions_host_refuse_to_start(string region, string setting, string message)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            StartAsync(region, eu: false, us: false, (setting, "http://127.0.0.1:1")));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_region_override_refuses_to_start_naming_it()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            StartAsync("US", eu: false, us: false, ("Upstreams:EuAnalytics", "ftp://example.com")));

        Assert.Contains("ReplayProxy:Upstreams:EuAnalytics is 'ftp://example.com'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Without a region override, the plain overrides never leak into the other region: it keeps Amplitude's
    /// own hosts (no fake could stand in for those, so this reads the resolved settings).</summary>
    [Fact]
    public void Plain_overrides_apply_to_the_configured_region_only()
    {
        var settings = new ReplayProxySettings(new ReplayProxyOptions
        {
            Region = "US",
            Upstreams = { Replay = "http://127.0.0.1:9001", Config = "http://127.0.0.1:9002", Analytics = "http://127.0.0.1:9003", EuConfig = "http://127.0.0.1:9004" },
        });

        Assert.Equal("127.0.0.1", settings.For(ReplayRouteTable.Default.Get(ReplayRouteKind.Track, AmplitudeRegion.US)).Host);
        Assert.Equal(9001, settings.For(ReplayRoute.Track).Port);
        Assert.Equal("api-sr.eu.amplitude.com", settings.For(ReplayRouteTable.Default.Get(ReplayRouteKind.Track, AmplitudeRegion.EU)).Host);
        Assert.Equal(9004, settings.For(ReplayRouteTable.Default.Get(ReplayRouteKind.Config, AmplitudeRegion.EU)).Port);
        Assert.Equal("api.eu.amplitude.com", settings.For(ReplayRouteTable.Default.Get(ReplayRouteKind.Batch, AmplitudeRegion.EU)).Host);
        Assert.Equal("api.eu.amplitude.com", settings.For(ReplayRouteTable.Default.Get(ReplayRouteKind.HttpApi, AmplitudeRegion.EU)).Host);
    }

    private Task<ProxyHost> StartAsync(string region, bool eu, bool us, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["Region"] = region };
        if (eu)
        {
            settings["Upstreams:EuReplay"] = _eu.BaseAddress.ToString();
            settings["Upstreams:EuConfig"] = _eu.BaseAddress.ToString();
            settings["Upstreams:EuAnalytics"] = _eu.BaseAddress.ToString();
        }

        if (us)
        {
            settings["Upstreams:UsReplay"] = _us.BaseAddress.ToString();
            settings["Upstreams:UsConfig"] = _us.BaseAddress.ToString();
            settings["Upstreams:UsAnalytics"] = _us.BaseAddress.ToString();
        }

        if ((us && AmplitudeRegion.Normalize(region) == AmplitudeRegion.US) || (eu && AmplitudeRegion.Normalize(region) == AmplitudeRegion.EU))
        {
            // The region fake replaces the configured region's hosts; setting the plain overrides too would refuse to start.
            settings["Upstreams:Replay"] = string.Empty;
            settings["Upstreams:Config"] = string.Empty;
            settings["Upstreams:Analytics"] = string.Empty;
        }

        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return ProxyHost.StartAsync(_plain, settings);
    }

    private async Task AssertReachesAsync(ProxyHost proxy, string method, string pathAndQuery, FakeAmplitude expected, string upstreamPath, string upstreamQuery)
    {
        using var client = proxy.CreateClient();
        var marker = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(new HttpMethod(method), pathAndQuery);
        request.Headers.Add("X-Test-Id", marker);
        if (method == "POST")
        {
            request.Content = Json();
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(expected.Received, r => r.Header("X-Test-Id") == marker);
        Assert.Equal(method, received.Method);
        Assert.Equal(upstreamPath, received.Path);
        Assert.Equal(upstreamQuery, received.Query);
        Assert.Equal(expected.BaseAddress.Authority, received.Host);
        foreach (var other in new[] { _plain, _eu, _us }.Where(f => f != expected))
        {
            Assert.DoesNotContain(other.Received, r => r.Header("X-Test-Id") == marker);
        }
    }

    private static ByteArrayContent Json()
    {
        var content = new ByteArrayContent("""{"api_key":"k3yRegion0123","events":[{"event_type":"x"}]}"""u8.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static async Task Unavailable(HttpContext context, ReceivedRequest request)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        await context.Response.WriteAsync("""{"code":503}""");
    }

    private static string Single(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values) ? Assert.Single(values) : throw new Xunit.Sdk.XunitException($"no {header} header");

    private static async Task<List<(int Port, string[] Regions, string[] UsedBy, bool Reachable)>> UpstreamsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/healthz/upstreams");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("upstreams").EnumerateArray()
            .Select(u => (
                u.GetProperty("port").GetInt32(),
                u.GetProperty("regions").EnumerateArray().Select(r => r.GetString()!).ToArray(),
                u.GetProperty("usedBy").EnumerateArray().Select(r => r.GetString()!).ToArray(),
                u.GetProperty("reachable").GetBoolean()))
            .ToList();
    }
}
