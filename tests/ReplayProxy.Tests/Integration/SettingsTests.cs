using System.Net;

namespace ReplayProxy.Tests.Integration;

public abstract class SettingsTests<TProxy>
    where TProxy : IProxyKind
{
    [Fact]
    public async Task Upstream_headers_are_added_to_every_upstream_request_replacing_a_client_copy()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(upstream.BaseAddress), new Dictionary<string, string?>
        {
            ["UpstreamHeaders:X-Proxy-Auth"] = "s3cret",
            ["UpstreamHeaders:X-Tenant"] = "acme",
        });
        using var client = proxy.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/config/key");
        request.Headers.TryAddWithoutValidation("X-Proxy-Auth", "forged");

        using var response = await client.SendAsync(request);
        using var post = await client.PostAsync("/2/httpapi", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.All(upstream.Received, r =>
        {
            Assert.Equal("s3cret", Assert.Single(r.HeaderValues("X-Proxy-Auth")));
            Assert.Equal("acme", r.Header("X-Tenant"));
        });
        Assert.False(response.Headers.Contains("X-Proxy-Auth"));
    }

    /// <summary>The list form, which Azure app settings can hold (their names allow no '-').</summary>
    [Fact]
    public async Task Upstream_headers_in_list_form_reach_the_upstream()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(upstream.BaseAddress), new Dictionary<string, string?>
        {
            ["UpstreamHeaders:0:Name"] = "X-Proxy-Auth",
            ["UpstreamHeaders:0:Value"] = "s3cret",
        });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/config/key?config_group=browser");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(upstream.Received);
        Assert.Equal("s3cret", Assert.Single(received.HeaderValues("X-Proxy-Auth")));
        Assert.Null(received.Header("Name"));
    }

    /// <summary><c>*</c> accepts any key wherever it travels: bearer, beacon query, config path, analytics body.</summary>
    [Fact]
    public async Task Star_accepts_any_api_key_in_every_place_it_travels()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(upstream.BaseAddress), new Dictionary<string, string?> { ["AllowedApiKeys"] = "*" });
        using var client = proxy.CreateClient();
        var key = "k" + Guid.NewGuid().ToString("N");

        using var upload = new HttpRequestMessage(HttpMethod.Post, "/sessions/v2/track?device_id=d&session_id=1&type=replay") { Content = new StringContent("{}") };
        upload.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        using var uploaded = await client.SendAsync(upload);
        using var beacon = await client.PostAsync($"/sessions/v2/track?device_id=d&session_id=1&type=replay&api_key={key}", new StringContent("{}"));
        using var config = await client.GetAsync($"/config/{key}?config_group=browser");
        using var events = await client.PostAsync("/2/httpapi", new StringContent($$"""{"api_key":"{{key}}","events":[]}"""));

        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK],
            [uploaded.StatusCode, beacon.StatusCode, config.StatusCode, events.StatusCode]);
        Assert.Equal(4, upstream.Received.Count);
    }

    public static TheoryData<string, string, string> InvalidSettings() => new()
    {
        { "ReplayProxy__Region", "APAC", "ReplayProxy:Region" },
        { "ReplayProxy__Upstreams__Replay", "not a url", "ReplayProxy:Upstreams:Replay" },
        { "ReplayProxy__FrontDoorId", "abc", "ReplayProxy:FrontDoorId" },
        { "ReplayProxy__UpstreamTimeoutSeconds", "-5", "ReplayProxy:UpstreamTimeoutSeconds" },
        { "ReplayProxy__UpstreamTimeoutSeconds", "soon", "ReplayProxy:UpstreamTimeoutSeconds" },
        { "ReplayProxy__MaxRequestBodyBytes", "0", "ReplayProxy:MaxRequestBodyBytes" },
        { "ReplayProxy__AllowedOrigins", "*", "ReplayProxy:AllowedOrigins" },
        { "ReplayProxy__AllowSdkDiagnostics", "maybe", "ReplayProxy:AllowSdkDiagnostics" },
        { "ReplayProxy__Regoin", "EU", "ReplayProxy:Regoin" },
        { "ReplayProxy__Upstreams__Replays", "http://127.0.0.1:1", "ReplayProxy:Upstreams:Replays" },
        { "ReplayProxy__Paths__Track", "sessions", "ReplayProxy:Paths:Track" },
        { "ReplayProxy__Paths__Batch", "/2/httpapi", "ReplayProxy:Paths:HttpApi and ReplayProxy:Paths:Batch are both '/2/httpapi'" },
        { "ReplayProxy__Paths__Config", "/healthz/c", "ReplayProxy:Paths:Config" },
        { "ReplayProxy__Paths__Legacyy", "/f", "ReplayProxy:Paths:Legacyy" },
        { "ReplayProxy__AllowedApiKeys", "*,key1", "ReplayProxy:AllowedApiKeys mixes '*' with keys" },
        { "ReplayProxy__UpstreamHeaders__0__Name", "X-Proxy-Auth", "ReplayProxy:UpstreamHeaders:0:Value is missing" },
    };

    /// <summary>The real host, started as a process: bad settings end it at start, non-zero (the standalone host: 1),
    /// with a message naming the setting.</summary>
    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task Host_refuses_to_start_with_invalid_settings(string variable, string value, string named)
    {
        var refused = await TProxy.StartRefusedAsync(variable, value);

        // The Functions test host exits with the worker's code; the standalone host's is 1.
        Assert.NotEqual(0, refused.ExitCode);
        Assert.True(TProxy.BehindFunctionsHost || refused.ExitCode == 1, $"exit code {refused.ExitCode}");
        Assert.Contains("ReplayProxy failed to start", refused.Error, StringComparison.Ordinal);
        Assert.Contains(named, refused.Error, StringComparison.Ordinal);
    }
}

public sealed class StandaloneSettingsTests : SettingsTests<StandaloneProxy>;

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsSettingsTests : SettingsTests<FunctionsProxy>;
