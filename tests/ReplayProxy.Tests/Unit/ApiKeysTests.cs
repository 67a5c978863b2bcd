using System.Text;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Tests.Unit;

public sealed class ApiKeysTests
{
    [Theory]
    [InlineData("/config/abc", "abc")]
    [InlineData("/config/abc/more", "abc")]
    [InlineData("/config/a%20b", "a b")]
    [InlineData("/config/", null)]
    [InlineData("/config", null)]
    [InlineData("/sessions/v2/track", null)]
    public void Config_key_is_the_first_segment_after_config(string path, string? key) =>
        Assert.Equal(key, ApiKeys.ConfigKey(new PathString(path)));

    [Fact]
    public void Star_alone_accepts_any_key_on_purpose_and_an_empty_list_is_unset()
    {
        var star = new ApiKeys(["*"]);
        var empty = new ApiKeys([]);
        var listed = new ApiKeys(["k1", "k2"]);

        Assert.True(star.AllowsAny);
        Assert.True(star.AnyOnPurpose);
        Assert.False(star.IsEmpty);
        Assert.Equal(0, star.Count);
        Assert.True(empty.AllowsAny);
        Assert.True(empty.IsEmpty);
        Assert.False(empty.AnyOnPurpose);
        Assert.False(listed.AllowsAny);
        Assert.True(listed.Allows("k2"));
        Assert.False(listed.Allows("*"));
    }

    [Fact]
    public void Request_keys_come_from_bearer_query_and_config_path()
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/config/pathkey";
        context.Request.QueryString = new QueryString("?api_key=querykey&config_group=browser");
        context.Request.Headers.Authorization = "Bearer bearerkey";
        var found = new List<string>();

        Assert.True(ApiKeys.TryCollectFromRequest(context.Request, ReplayRoute.Config, found));
        Assert.Equal(["bearerkey", "querykey", "pathkey"], found);
    }

    [Fact]
    public void A_credential_that_is_not_a_bearer_token_is_unreadable()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = "Basic dXNlcjpwYXNz";

        Assert.False(ApiKeys.TryCollectFromRequest(context.Request, ReplayRoute.Track, []));
    }

    [Theory]
    [InlineData("""{"api_key":"k1","events":[{"api_key":"nested"}]}""", new[] { "k1" })]
    [InlineData("""{"events":[],"options":{"api_key":"x"},"api_key":"k2"}""", new[] { "k2" })]
    [InlineData("""{"api_key":"a","api_key":"b"}""", new[] { "a", "b" })]
    [InlineData("""{"api_key":123}""", new[] { "" })]
    [InlineData("""{"events":[]}""", new string[0])]
    public void Analytics_body_keys_are_the_top_level_api_key_values(string json, string[] expected)
    {
        var found = new List<string>();

        Assert.True(ApiKeys.TryCollectFromAnalyticsBody(Encoding.UTF8.GetBytes(json), null, AnalyticsBodyFormat.Json, 1 << 20, found));
        Assert.Equal(expected, found);
    }

    [Fact]
    public void Gzip_analytics_bodies_are_inspected_on_a_copy()
    {
        var body = Gzip("""{"api_key":"gz","events":[]}""");
        var copy = body.ToArray();
        var found = new List<string>();

        Assert.True(ApiKeys.TryCollectFromAnalyticsBody(body, "gzip", AnalyticsBodyFormat.Json, 1 << 20, found));
        Assert.Equal(["gz"], found);
        Assert.Equal(copy, body);
    }

    [Theory]
    [InlineData("not json", null)]
    [InlineData("[]", null)]
    [InlineData("""{"api_key":"k",""", null)]
    [InlineData("""{"api_key":"k"}""", "br")]
    public void Unreadable_analytics_bodies_are_refused(string json, string? encoding) =>
        Assert.False(ApiKeys.TryCollectFromAnalyticsBody(Encoding.UTF8.GetBytes(json), encoding, AnalyticsBodyFormat.Json, 1 << 20, []));

    [Fact]
    public void A_gzip_bomb_is_refused_past_the_inspection_limit()
    {
        var body = Gzip("{\"api_key\":\"k\",\"pad\":\"" + new string('a', 200_000) + "\"}");

        Assert.False(ApiKeys.TryCollectFromAnalyticsBody(body, "gzip", AnalyticsBodyFormat.Json, 100_000, []));
    }

    [Theory]
    [InlineData("v=3&client=k1&e=%5B%5D&upload_time=1", new[] { "k1" })]
    [InlineData("client=a%2Db&client=c+d", new[] { "a-b", "c d" })]
    [InlineData("v=3&e=%5B%7B%22client%22%3A1%7D%5D", new string[0])]
    [InlineData("clientx=1&xclient=2&client", new[] { "" })]
    public void Form_body_keys_are_the_client_fields(string form, string[] expected)
    {
        var found = new List<string>();

        Assert.True(ApiKeys.TryCollectFromAnalyticsBody(Encoding.ASCII.GetBytes(form), null, AnalyticsBodyFormat.Form, 1 << 20, found));
        Assert.Equal(expected, found);
    }

    [Fact]
    public void A_form_body_that_is_not_url_encoded_ascii_is_refused() =>
        Assert.False(ApiKeys.TryCollectFromAnalyticsBody(Encoding.UTF8.GetBytes("client=k\u00e9&e=\u0000"), null, AnalyticsBodyFormat.Form, 1 << 20, []));

    private static byte[] Gzip(string text) => Testing.Gzip.Compress(Encoding.UTF8.GetBytes(text));
}
