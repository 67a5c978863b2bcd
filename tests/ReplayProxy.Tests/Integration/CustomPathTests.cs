using System.Net;
using System.Text;

namespace ReplayProxy.Tests.Integration;

/// <summary>
/// <c>ReplayProxy:Paths:*</c>: every route at a path of the operator's choosing, region prefixes on top, the default
/// paths gone, and Amplitude still receiving its own paths.
/// </summary>
public abstract class CustomPathTests<TProxy>(CustomPathTests<TProxy>.Fixture fixture) : IClassFixture<CustomPathTests<TProxy>.Fixture>
    where TProxy : IProxyKind
{
    private const string Key = "custom0paths0key0000000000000001";

    public sealed class Fixture : EuProxyFixture<TProxy>
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Paths:Track"] = "/r/t",
            ["Paths:Config"] = "/c",
            ["Paths:HttpApi"] = "/e",
            ["Paths:Batch"] = "/b",
            ["Paths:Legacy"] = "/f",
            ["AllowedApiKeys"] = Key,
            ["Upstreams:EuReplay"] = Eu.BaseAddress.AbsoluteUri,
            ["Upstreams:EuConfig"] = Eu.BaseAddress.AbsoluteUri,
            ["Upstreams:EuAnalytics"] = Eu.BaseAddress.AbsoluteUri,
        };
    }

    public static TheoryData<string, string, string, string> Routes() => new()
    {
        // method, public path and query, Amplitude's path, Amplitude's query
        { "POST", "/r/t?device_id=d&session_id=1&type=replay", "/sessions/v2/track", "?device_id=d&session_id=1&type=replay" },
        { "GET", $"/c/{Key}?config_group=browser", $"/config/{Key}", "?config_group=browser" },
        { "POST", "/e", "/2/httpapi", "" },
        { "POST", "/b?x=1", "/batch", "?x=1" },
        { "POST", "/f", "/", "" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Each_route_answers_at_its_path_and_amplitude_gets_its_own(string method, string path, string upstreamPath, string upstreamQuery)
    {
        var upstream = fixture.Cleared();

        using var response = await fixture.Client.SendAsync(Request(method, path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(upstream.Received);
        Assert.Equal(upstreamPath, received.Path);
        Assert.Equal(upstreamQuery, received.Query);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Region_prefixes_apply_on_top(string method, string path, string upstreamPath, string upstreamQuery)
    {
        var upstream = fixture.Cleared();
        fixture.Eu.Clear();

        using var response = await fixture.Client.SendAsync(Request(method, "/eu" + path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(fixture.Eu.Received);
        Assert.Equal(upstreamPath, received.Path);
        Assert.Equal(upstreamQuery, received.Query);
        Assert.Empty(upstream.Received);
    }

    [Theory]
    [InlineData("POST", "/sessions/v2/track")]
    [InlineData("GET", "/config/" + Key)]
    [InlineData("POST", "/2/httpapi")]
    [InlineData("POST", "/batch")]
    [InlineData("POST", "/")]
    [InlineData("POST", "/eu/batch")]
    [InlineData("POST", "/eu/")]
    public async Task A_renamed_routes_default_path_is_404_and_reaches_nobody(string method, string path)
    {
        var upstream = fixture.Cleared();
        fixture.Eu.Clear();

        using var response = await fixture.Client.SendAsync(Request(method, path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(upstream.Received);
        Assert.Empty(fixture.Eu.Received);
    }

    [Fact]
    public async Task The_config_key_is_read_after_the_custom_path()
    {
        var upstream = fixture.Cleared();

        using var refused = await fixture.Client.GetAsync("/c/not0the0listed0key0000000000001");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task Health_stays_where_it_is()
    {
        using var response = await fixture.Client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static HttpRequestMessage Request(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new("Bearer", Key);
        if (method == "POST")
        {
            var body = path.Contains("/f", StringComparison.Ordinal) || path is "/" or "/eu/"
                ? $"v=3&client={Key}&e=%5B%5D&upload_time=1"
                : $$"""{"api_key":"{{Key}}","events":[]}""";
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        }

        return request;
    }
}

public sealed class StandaloneCustomPathTests(CustomPathTests<StandaloneProxy>.Fixture fixture) : CustomPathTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsCustomPathTests(CustomPathTests<FunctionsProxy>.Fixture fixture) : CustomPathTests<FunctionsProxy>(fixture);
