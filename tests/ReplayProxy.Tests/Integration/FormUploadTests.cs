using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace ReplayProxy.Tests.Integration;

/// <summary>
/// The form upload of Amplitude's maintenance SDKs (Amplitude-iOS 8.x, which the iOS Session Replay middleware runs
/// on; amplitude-js; the old Android SDK): <c>POST /</c>, <c>application/x-www-form-urlencoded</c>, built as
/// <c>Amplitude.m</c> <c>makeEventUploadPostRequest</c> builds it, relayed to the analytics host's <c>/</c>.
/// </summary>
public abstract class FormUploadTests<TProxy>(FormUploadTests<TProxy>.Fixture fixture) : IClassFixture<FormUploadTests<TProxy>.Fixture>
    where TProxy : IProxyKind
{
    public const string Key = "ios0key0000000000000000000000001";
    private const string IosUserAgent = "ReplayDemo/1.0 CFNetwork/1494.0.7 Darwin/23.4.0";

    public sealed class Fixture : EuProxyFixture<TProxy>
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["AllowedApiKeys"] = Key,
            ["Upstreams:EuAnalytics"] = Eu.BaseAddress.AbsoluteUri,
        };
    }

    /// <summary>The body exactly as Amplitude-iOS builds it: <c>v=3&amp;client=&lt;key&gt;&amp;e=&lt;URL-encoded JSON
    /// array&gt;&amp;upload_time=&lt;ms&gt;</c>, no gzip, its length as <c>Content-Length</c>.</summary>
    public static byte[] IosForm(string apiKey, int events, long uploadTime = 1764931200123)
    {
        var json = new StringBuilder("[");
        for (var i = 0; i < events; i++)
        {
            json.Append(i == 0 ? "" : ",").Append(
                $$"""{"event_type":"[Amplitude] Session Replay ID {{i}}","event_id":{{i + 1}},"session_id":1764931000000,"device_id":"9C2B6F1E-3A4D-4F5B-8E7A-1D2C3B4A5F6E","timestamp":1764931199000,"event_properties":{"[Amplitude] Session Replay ID":"9C2B6F1E/1764931000000","note":"é & = + %"},"library":{"name":"amplitude-ios","version":"8.22.2"},"platform":"iOS","os_name":"ios","uuid":"{{Guid.NewGuid()}}"}""");
        }

        json.Append(']');
        return Encoding.UTF8.GetBytes($"v=3&client={apiKey}&e={Uri.EscapeDataString(json.ToString())}&upload_time={uploadTime}");
    }

    private static HttpRequestMessage Upload(string path, byte[] form)
    {
        var content = new ByteArrayContent(form);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TryAddWithoutValidation("User-Agent", IosUserAgent);
        request.Headers.TryAddWithoutValidation("Accept", "*/*");
        return request;
    }

    [Fact]
    public async Task An_ios_form_upload_reaches_the_analytics_root_byte_identical_with_its_headers()
    {
        var upstream = fixture.Cleared();
        var form = IosForm(Key, 3);

        using var response = await fixture.Client.SendAsync(Upload("/", form));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(upstream.Received);
        Assert.Equal("POST", received.Method);
        Assert.Equal("/", received.Path);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(form)), received.BodySha256);
        Assert.Equal(form.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("Content-Length"));
        Assert.Equal("application/x-www-form-urlencoded", received.Header("Content-Type"));
        Assert.Equal(IosUserAgent, received.Header("User-Agent"));
    }

    [Theory]
    [InlineData("/eu/")]
    [InlineData("/eu")]
    [InlineData("/EU/")]
    public async Task Under_eu_it_goes_to_the_eu_analytics_host_root(string path)
    {
        var upstream = fixture.Cleared();
        fixture.Eu.Clear();
        var form = IosForm(Key, 1);

        using var response = await fixture.Client.SendAsync(Upload(path, form));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(fixture.Eu.Received);
        Assert.Equal("/", received.Path);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(form)), received.BodySha256);
        Assert.Empty(upstream.Received);
    }

    [Theory]
    [InlineData("someone0elses0key000000000000001")]
    [InlineData("")]
    public async Task A_client_field_not_on_the_key_list_is_refused_and_not_forwarded(string client)
    {
        var upstream = fixture.Cleared();

        using var response = await fixture.Client.SendAsync(Upload("/", IosForm(client, 1)));

        // Amplitude-iOS keeps the events and retries later on anything but 200: nothing is lost by refusing.
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task A_form_without_a_client_field_is_refused()
    {
        var upstream = fixture.Cleared();

        using var response = await fixture.Client.SendAsync(Upload("/", "v=3&e=%5B%5D&upload_time=1"u8.ToArray()));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task An_oversize_form_gets_413_which_makes_the_sdk_halve_the_batch()
    {
        await using var small = await TProxy.StartAsync(ProxyUpstreams.All(fixture.Upstream.BaseAddress), new Dictionary<string, string?>
        {
            ["AllowedApiKeys"] = Key,
            ["MaxRequestBodyBytes"] = "4096",
        });
        using var client = small.CreateClient();
        var upstream = fixture.Cleared();

        using var response = await client.SendAsync(Upload("/", IosForm(Key, 20)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task A_preflight_on_the_root_is_answered_like_the_other_routes()
    {
        var upstream = fixture.Cleared();
        using var request = new HttpRequestMessage(HttpMethod.Options, "/");
        request.Headers.TryAddWithoutValidation("Origin", "https://www.example.com");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Empty(upstream.Received);
    }
}

public sealed class StandaloneFormUploadTests(FormUploadTests<StandaloneProxy>.Fixture fixture) : FormUploadTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsFormUploadTests(FormUploadTests<FunctionsProxy>.Fixture fixture) : FormUploadTests<FunctionsProxy>(fixture);
