using System.Net;
using System.Text;

namespace ReplayProxy.Tests.Integration;

/// <summary>Front Door lock, API-key allow-list, and client IP trust.</summary>
public abstract class AccessControlTests<TProxy>(AccessControlTests<TProxy>.Fixture fixture) : IClassFixture<AccessControlTests<TProxy>.Fixture>
    where TProxy : IProxyKind
{
    private const string Key = "aaaabbbbccccddddeeeeffff00001111";
    private const string OtherKey = "99998888777766665555444433332222";
    private const int MaxBodyBytes = 100_000;
    private static readonly string FrontDoorId = Guid.NewGuid().ToString();
    private readonly FakeAmplitude _upstream = fixture.Cleared();
    private readonly HttpClient _client = fixture.Client;

    /// <summary>The proxy with an API-key allow-list behind Front Door.</summary>
    public sealed class Fixture : ProxyFixture<TProxy>
    {
        protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
        {
            ["AllowedApiKeys"] = $"{Key},second_key",
            ["FrontDoorId"] = FrontDoorId,
            ["MaxRequestBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private static HttpRequestMessage ViaFrontDoor(HttpMethod method, string path, HttpContent? content = null, string? fdid = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.TryAddWithoutValidation("X-Azure-FDID", fdid ?? FrontDoorId);
        return request;
    }

    private static ByteArrayContent Gzip(string json)
    {
        var content = new ByteArrayContent(Testing.Gzip.Compress(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentEncoding.Add("gzip");
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return content;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-guid")]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    public async Task Requests_without_the_front_door_id_are_refused(string? fdid)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/config/{Key}");
        if (fdid is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Azure-FDID", fdid);
        }

        using var response = await _client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Two_front_door_id_headers_are_refused()
    {
        using var request = ViaFrontDoor(HttpMethod.Get, $"/config/{Key}");
        request.Headers.TryAddWithoutValidation("X-Azure-FDID", Guid.NewGuid().ToString());

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Through_front_door_the_edge_client_ip_is_forwarded_and_never_the_client_supplied_one()
    {
        using var request = ViaFrontDoor(HttpMethod.Get, $"/config/{Key}");
        request.Headers.TryAddWithoutValidation("X-Azure-ClientIP", "203.0.113.9");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_upstream.Received);
        Assert.Equal("203.0.113.9", Assert.Single(received.HeaderValues("X-Forwarded-For")));
        Assert.Null(received.Header("X-Azure-FDID"));
        Assert.Null(received.Header("X-Azure-ClientIP"));
    }

    [Theory]
    [InlineData("Bearer " + Key, "", HttpStatusCode.OK)]
    [InlineData("Bearer " + OtherKey, "", HttpStatusCode.Forbidden)]
    [InlineData("Basic " + Key, "", HttpStatusCode.Forbidden)]
    [InlineData(null, "&api_key=" + Key, HttpStatusCode.OK)]
    [InlineData(null, "&api_key=second_key", HttpStatusCode.OK)]
    [InlineData(null, "&api_key=" + OtherKey, HttpStatusCode.Forbidden)]
    [InlineData(null, "&api_key=" + Key + "&api_key=" + OtherKey, HttpStatusCode.Forbidden)]
    [InlineData("Bearer " + Key, "&api_key=" + OtherKey, HttpStatusCode.Forbidden)]
    [InlineData(null, "", HttpStatusCode.Forbidden)]
    public async Task Replay_upload_keys_are_checked_in_the_bearer_token_and_the_beacon_query(string? authorization, string query, HttpStatusCode expected)
    {
        using var request = ViaFrontDoor(HttpMethod.Post, "/sessions/v2/track?device_id=d&session_id=1" + query, new ByteArrayContent([1, 2]));
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await _client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, _upstream.Received.Count);
    }

    [Theory]
    [InlineData("/config/" + Key + "?config_group=browser", HttpStatusCode.OK)]
    [InlineData("/config/" + OtherKey + "?config_group=browser", HttpStatusCode.Forbidden)]
    [InlineData("/config?config_group=browser", HttpStatusCode.Forbidden)]
    [InlineData("/config/" + Key + "?api_key=" + OtherKey, HttpStatusCode.Forbidden)]
    public async Task Config_key_is_checked_in_the_path(string path, HttpStatusCode expected)
    {
        using var response = await _client.SendAsync(ViaFrontDoor(HttpMethod.Get, path));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, _upstream.Received.Count);
    }

    [Theory]
    [InlineData("{\"api_key\":\"" + Key + "\",\"events\":[{\"event_type\":\"x\",\"api_key\":\"nested-is-ignored\"}]}", false, HttpStatusCode.OK)]
    [InlineData("{\"events\":[],\"api_key\":\"" + Key + "\"}", true, HttpStatusCode.OK)]
    [InlineData("{\"api_key\":\"" + OtherKey + "\",\"events\":[]}", false, HttpStatusCode.Forbidden)]
    [InlineData("{\"api_key\":\"" + OtherKey + "\",\"events\":[]}", true, HttpStatusCode.Forbidden)]
    [InlineData("{\"api_key\":\"" + Key + "\",\"api_key\":\"" + OtherKey + "\"}", false, HttpStatusCode.Forbidden)]
    [InlineData("{\"events\":[]}", false, HttpStatusCode.Forbidden)]
    [InlineData("not json", false, HttpStatusCode.BadRequest)]
    [InlineData("[1,2]", true, HttpStatusCode.BadRequest)]
    public async Task Analytics_key_is_checked_in_the_body_which_still_arrives_byte_identical(string json, bool gzip, HttpStatusCode expected)
    {
        HttpContent content = gzip ? Gzip(json) : new StringContent(json, Encoding.UTF8, "application/json");
        var sent = await content.ReadAsByteArrayAsync();

        using var response = await _client.SendAsync(ViaFrontDoor(HttpMethod.Post, "/2/httpapi", content));

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
        {
            var received = Assert.Single(_upstream.Received);
            Assert.Equal(sent, received.Body);
            Assert.Equal(gzip ? "gzip" : null, received.Header("Content-Encoding"));
            Assert.Equal(sent.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("Content-Length"));
        }
        else
        {
            await ProblemAssert.IsProblemAsync(response, expected);
            Assert.Empty(_upstream.Received);
        }
    }

    /// <summary>With a key list the analytics body is read to find its key; past the limit that is the SDK's 413
    /// (split the batch), whether the size was declared or only found while reading.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Oversize_analytics_body_is_413_with_a_key_list_and_nothing_is_forwarded(bool declaredLength)
    {
        var json = Encoding.UTF8.GetBytes("{\"api_key\":\"" + Key + "\",\"events\":[{\"event_type\":\"" + new string('x', MaxBodyBytes) + "\"}]}");
        HttpContent content = declaredLength ? new ByteArrayContent(json) : new StreamContent(new UnseekableStream(json));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");

        using var response = await _client.SendAsync(ViaFrontDoor(HttpMethod.Post, "/2/httpapi", content));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Matches("(?i)payload.*exceed", problem.GetProperty("detail").GetString());
        Assert.Empty(_upstream.Received);
    }

    /// <summary>A body HttpClient cannot measure, so it goes chunked.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}

public sealed class StandaloneAccessControlTests(AccessControlTests<StandaloneProxy>.Fixture fixture) : AccessControlTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsAccessControlTests(AccessControlTests<FunctionsProxy>.Fixture fixture) : AccessControlTests<FunctionsProxy>(fixture);
