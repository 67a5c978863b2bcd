using System.Net;
using System.Net.Http.Headers;

namespace ReplayProxy.Functions.Tests;

/// <summary>
/// Region prefixes (issue 13 part 2) through the test host and the real worker: each <c>/eu/...</c> trigger reaches
/// the EU fake, <c>/us/...</c> and unprefixed paths the configured region's (US) fake, always with the unprefixed path
/// and the query verbatim.
/// </summary>
[Collection(WorkerPathCollection.Name)]
public sealed class WorkerRegionTests(WorkerRegionFixture fixture) : IClassFixture<WorkerRegionFixture>
{
    [Theory]
    [InlineData("/eu", "POST", "/sessions/v2/track", "?device_id=d1&session_id=123&seq_number=1")]
    [InlineData("/eu", "GET", "/config", "?api_key=k3yAbc&config_keys=a")]
    [InlineData("/eu", "GET", "/config/k3yAbc", "?config_group=browser")]
    [InlineData("/eu", "HEAD", "/config/k3yAbc", "?config_keys=sessionReplay.sr_ios_privacy_config")]
    [InlineData("/eu", "POST", "/2/httpapi", "?x=1")]
    [InlineData("/eu", "POST", "/batch", "")]
    [InlineData("/us", "POST", "/sessions/v2/track", "?device_id=d1&session_id=123&seq_number=1")]
    [InlineData("/us", "GET", "/config/k3yAbc", "?config_group=browser")]
    [InlineData("/us", "HEAD", "/config/k3yAbc", "")]
    [InlineData("/us", "POST", "/2/httpapi", "")]
    [InlineData("/us", "POST", "/batch", "?v=2")]
    [InlineData("", "POST", "/sessions/v2/track", "?device_id=d1")]
    [InlineData("", "GET", "/config/k3yAbc", "?config_group=browser")]
    [InlineData("", "POST", "/batch", "")]
    public async Task Each_prefixed_trigger_reaches_its_regions_host_with_the_unprefixed_path(string prefix, string method, string path, string query)
    {
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);
        var marker = Guid.NewGuid().ToString();
        using var request = new HttpRequestMessage(new HttpMethod(method), prefix + path + query);
        request.Headers.Add("X-Test-Id", marker);
        request.Headers.Add("Origin", WorkerPath.AllowedOrigin);
        if (method == "POST")
        {
            request.Content = new ByteArrayContent("""{"api_key":"k3yAbc","events":[{"event_type":"x"}]}"""u8.ToArray());
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(WorkerPath.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var (expected, other) = prefix == "/eu" ? (fixture.Eu, fixture.Us) : (fixture.Us, fixture.Eu);
        var received = WorkerPath.Received(expected, marker);
        Assert.Equal(method, received.Method);
        Assert.Equal(path, received.Path);
        Assert.Equal(query, received.Query);
        Assert.Equal(expected.BaseAddress.Authority, received.Host);
        Assert.DoesNotContain(other.Received, r => r.Header("X-Test-Id") == marker);
    }

    [Theory]
    [InlineData("/eu/sessions/v2/track")]
    [InlineData("/us/config/k3yAbc")]
    public async Task Preflight_on_a_prefixed_path_is_answered_by_the_proxy_in_the_worker(string path)
    {
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);
        var before = fixture.Eu.Received.Count + fixture.Us.Received.Count;
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", WorkerPath.AllowedOrigin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization, content-type, content-encoding");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(WorkerPath.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        Assert.Equal("authorization, content-type, content-encoding", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
        Assert.Equal(before, fixture.Eu.Received.Count + fixture.Us.Received.Count);
    }

    [Theory]
    [InlineData("POST", "/xx/sessions/v2/track")]
    [InlineData("GET", "/eu/healthz")]
    [InlineData("POST", "/eu/us/batch")]
    public async Task Unknown_prefixes_and_prefixed_health_match_no_trigger(string method, string path)
    {
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);
        var before = fixture.Eu.Received.Count + fixture.Us.Received.Count;

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(before, fixture.Eu.Received.Count + fixture.Us.Received.Count);
    }
}

/// <summary>One test host with its worker, region US, in front of a US fake (<c>Upstreams:*</c>) and an EU fake
/// (<c>Upstreams:Eu*</c>).</summary>
public sealed class WorkerRegionFixture : IAsyncLifetime
{
    public FakeAmplitude Us { get; private set; } = null!;

    public FakeAmplitude Eu { get; private set; } = null!;

    public FunctionsHostProcess Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Us = await FakeAmplitude.StartAsync();
        Eu = await FakeAmplitude.StartAsync();
        var eu = Eu.BaseAddress.ToString();
        Host = await FunctionsHostProcess.StartAsync(WorkerPath.Settings(
            Us.BaseAddress,
            ("ReplayProxy__Region", "US"),
            ("ReplayProxy__Upstreams__EuReplay", eu),
            ("ReplayProxy__Upstreams__EuConfig", eu),
            ("ReplayProxy__Upstreams__EuAnalytics", eu)));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Eu.DisposeAsync();
        await Us.DisposeAsync();
    }
}
