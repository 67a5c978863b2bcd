using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ReplayProxy.Tests.Integration;

/// <summary>
/// Uploads through an Amplitude outage (issue 20): every upload made while Amplitude fails by 503, by reset or by
/// hanging is acknowledged, survives the proxy going away, and reaches Amplitude byte-identical, with its path, query
/// and headers, exactly once after recovery. Each host runs this against the store it uses in production.
/// </summary>
public abstract class SpoolTests<TProxy> where TProxy : IProxyKind
{
    private const string ApiKey = "spoolkey0123456789";

    /// <summary>The store settings (keys relative to ReplayProxy) for a store no other test uses.</summary>
    protected abstract Task<IReadOnlyDictionary<string, string?>> NewStoreAsync();

    private async Task<Dictionary<string, string?>> SettingsAsync(IReadOnlyDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Spool:AnswerWithinMilliseconds"] = "1500",
            ["Spool:RetryMaxSeconds"] = "1",
            // The delivery loop's attempts at a hanging Amplitude end with this.
            ["UpstreamTimeoutSeconds"] = "3",
            ["ConfigStaleLimitSeconds"] = "0",
        };
        foreach (var (key, value) in await NewStoreAsync())
        {
            settings[key] = value;
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    [Theory]
    [InlineData(OutageMode.ServiceUnavailable)]
    [InlineData(OutageMode.Reset)]
    [InlineData(OutageMode.Hang)]
    public async Task Uploads_during_an_outage_are_acknowledged_kept_through_a_kill_and_delivered_once(OutageMode mode)
    {
        await using var amplitude = await OutageAmplitude.StartAsync(mode);
        var settings = await SettingsAsync();
        var uploads = Uploads();

        var proxy = await TProxy.StartAsync(ProxyUpstreams.All(amplitude.BaseAddress), settings);
        try
        {
            using var client = proxy.CreateClient();
            foreach (var upload in uploads)
            {
                using var response = await client.SendAsync(upload.Request());
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("true", Assert.Single(response.Headers.GetValues("X-Replay-Proxy-Spooled")));
                Assert.Equal("https://www.example.com", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
                Assert.Contains("X-Replay-Proxy-Spooled", Assert.Single(response.Headers.GetValues("Access-Control-Expose-Headers")), StringComparison.Ordinal);
                if (upload.Path == "/")
                {
                    // Amplitude-iOS removes its events only on a 200 whose body is exactly "success".
                    Assert.Equal("success", await response.Content.ReadAsStringAsync());
                    continue;
                }

                using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
                Assert.Equal(200, json.RootElement.GetProperty("code").GetInt32());
            }

            var spool = await SpoolReportAsync(client);
            Assert.Equal(uploads.Count, spool.GetProperty("depth").GetInt32());
            Assert.True(spool.GetProperty("bytes").GetInt64() > uploads.Sum(u => u.Body.Length));
            Assert.Empty(Posts(amplitude));
        }
        finally
        {
            await proxy.KillAsync();
        }

        // Amplitude is back; so is the proxy, on the same store.
        amplitude.Mode = OutageMode.None;
        await using var restarted = await TProxy.StartAsync(ProxyUpstreams.All(amplitude.BaseAddress), settings);
        // On Blob, an item the killed instance held waits for its 60 s lease to lapse.
        await Eventually.WaitUntil(() => Posts(amplitude).Count >= uploads.Count, TimeSpan.FromSeconds(120));
        using (var client = restarted.CreateClient())
        {
            await Eventually.WaitUntil(() => SpoolDepthAsync(client).GetAwaiter().GetResult() == 0, TimeSpan.FromSeconds(20));
            Assert.Equal(0, await SpoolDepthAsync(client));
        }

        // Every upload once, nothing else (the health check's probes are GETs).
        var accepted = Posts(amplitude);
        Assert.Equal(uploads.Count, accepted.Count);
        foreach (var upload in uploads)
        {
            var delivered = Assert.Single(accepted, r => r.BodySha256 == upload.Sha256);
            upload.AssertDeliveredAs(delivered);
        }
    }

    [Theory]
    [InlineData(OutageMode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable)]
    [InlineData(OutageMode.Hang, HttpStatusCode.GatewayTimeout)]
    public async Task A_full_spool_refuses_with_a_retryable_status(OutageMode mode, HttpStatusCode expected)
    {
        await using var amplitude = await OutageAmplitude.StartAsync(mode);
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(amplitude.BaseAddress), await SettingsAsync(new Dictionary<string, string?> { ["Spool:MaxBytes"] = "64" }));
        using var client = proxy.CreateClient();

        using var response = await client.SendAsync(Uploads()[0].Request());

        Assert.Equal(expected, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Replay-Proxy-Spooled"));
        Assert.Equal(0, await SpoolDepthAsync(client));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(413)]
    [InlineData(429)]
    public async Task Client_errors_and_429_pass_through_and_are_never_kept(int status)
    {
        await using var amplitude = await OutageAmplitude.StartAsync();
        amplitude.StatusWhileUp = status;
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(amplitude.BaseAddress), await SettingsAsync());
        using var client = proxy.CreateClient();

        using var response = await client.SendAsync(Uploads()[0].Request());

        Assert.Equal(status, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("X-Replay-Proxy-Spooled"));
        Assert.Equal(0, await SpoolDepthAsync(client));
    }

    [Fact]
    public async Task Config_is_never_kept()
    {
        await using var amplitude = await OutageAmplitude.StartAsync(OutageMode.ServiceUnavailable);
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(amplitude.BaseAddress), await SettingsAsync());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync(new Uri("/config/" + ApiKey + "?config_group=browser", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Replay-Proxy-Spooled"));
        Assert.Equal(0, await SpoolDepthAsync(client));
    }

    [Fact]
    public async Task A_healthy_upload_is_relayed_not_kept()
    {
        await using var amplitude = await OutageAmplitude.StartAsync();
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(amplitude.BaseAddress), await SettingsAsync());
        using var client = proxy.CreateClient();
        var upload = Uploads()[0];

        using var response = await client.SendAsync(upload.Request());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Replay-Proxy-Spooled"));
        upload.AssertDeliveredAs(Assert.Single(Posts(amplitude)));
        Assert.Equal(0, await SpoolDepthAsync(client));
    }

    private static List<ReceivedRequest> Posts(OutageAmplitude amplitude) => amplitude.Accepted.Where(r => r.Method == "POST").ToList();

    private static async Task<JsonElement> SpoolReportAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/healthz/upstreams", UriKind.Relative));
        using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return json.RootElement.GetProperty("spool").Clone();
    }

    private static async Task<int> SpoolDepthAsync(HttpClient client) => (await SpoolReportAsync(client)).GetProperty("depth").GetInt32();

    /// <summary>A replay upload as the SDK sends it (gzip, query, X-Client-*), one to each analytics route (the form
    /// route too), and a replay upload too large to stay in memory while it streams.</summary>
    private static List<Upload> Uploads()
    {
        var large = new byte[SpoolCaptureBound + 4096];
        Random.Shared.NextBytes(large);
        return
        [
            new("/sessions/v2/track", "?device_id=dev-1&session_id=1700000000000&type=replay", Gzip.Compress(Encoding.UTF8.GetBytes("""{"version":1,"events":["{\"type\":2}"]}""" + Guid.NewGuid())), "application/json", "gzip"),
            new("/2/httpapi", string.Empty, Encoding.UTF8.GetBytes($$"""{"api_key":"{{ApiKey}}","events":[{"event_type":"a","insert_id":"{{Guid.NewGuid()}}"}]}"""), "application/json", null),
            new("/batch", string.Empty, Encoding.UTF8.GetBytes($$"""{"api_key":"{{ApiKey}}","events":[{"event_type":"b","insert_id":"{{Guid.NewGuid()}}"}]}"""), "application/json", null),
            new("/sessions/v2/track", "?device_id=dev-2&session_id=1700000000001&type=replay", large, "application/json", "gzip"),
            new("/", string.Empty, FormUploadTests<TProxy>.IosForm(ApiKey, 2), "application/x-www-form-urlencoded", null),
        ];
    }

    private const int SpoolCaptureBound = 1024 * 1024;

    private sealed record Upload(string Path, string Query, byte[] Body, string ContentType, string? ContentEncoding)
    {
        public string Sha256 { get; } = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Body));

        public HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Path + Query, UriKind.Relative))
            {
                Content = new ByteArrayContent(Body),
            };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType);
            if (ContentEncoding is not null)
            {
                request.Content.Headers.ContentEncoding.Add(ContentEncoding);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            }

            request.Headers.Add("Origin", "https://www.example.com");
            request.Headers.Add("X-Client-Version", "1.51.6");
            request.Headers.Add("X-Client-Library", "@amplitude/session-replay-browser");
            request.Headers.Add("X-Client-Url", "https://www.example.com/page?x=1");
            request.Headers.Add("X-Client-Sample-Rate", "1");
            return request;
        }

        public void AssertDeliveredAs(ReceivedRequest delivered)
        {
            Assert.Equal("POST", delivered.Method);
            Assert.Equal(Path, delivered.Path);
            Assert.Equal(Query, delivered.Query);
            Assert.Equal(Sha256, delivered.BodySha256);
            Assert.Equal(Body.Length, delivered.BodyLength);
            Assert.Equal(Body.Length.ToString(CultureInfo.InvariantCulture), delivered.Header("Content-Length"));
            Assert.Equal(ContentType, delivered.Header("Content-Type"));
            Assert.Equal(ContentEncoding, delivered.Header("Content-Encoding"));
            Assert.Equal(ContentEncoding is null ? null : "Bearer " + ApiKey, delivered.Header("Authorization"));
            Assert.Equal("1.51.6", delivered.Header("X-Client-Version"));
            Assert.Equal("@amplitude/session-replay-browser", delivered.Header("X-Client-Library"));
            Assert.Equal("https://www.example.com/page?x=1", delivered.Header("X-Client-Url"));
            Assert.Equal("1", delivered.Header("X-Client-Sample-Rate"));
            Assert.Equal("https://www.example.com", delivered.Header("Origin"));
            Assert.Equal("127.0.0.1", delivered.Header("X-Forwarded-For"));
            Assert.Equal("spool-test", delivered.Header("X-Tenant"));
            Assert.Null(delivered.Header("Cookie"));
        }
    }
}

/// <summary>The standalone host keeps uploads in a directory.</summary>
public sealed class StandaloneSpoolTests : SpoolTests<StandaloneProxy>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spool-tests-").FullName;

    protected override Task<IReadOnlyDictionary<string, string?>> NewStoreAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>
        {
            ["Spool:Directory"] = Path.Combine(_root, Guid.NewGuid().ToString("N")),
            ["UpstreamHeaders:X-Tenant"] = "spool-test",
        });

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

/// <summary>The Functions app keeps uploads in Blob Storage: here Azurite, a real Blob endpoint.</summary>
[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsSpoolTests : SpoolTests<FunctionsProxy>
{
    protected override async Task<IReadOnlyDictionary<string, string?>> NewStoreAsync() =>
        new Dictionary<string, string?>
        {
            ["Spool:BlobConnectionString"] = (await Azurite.SharedAsync()).ConnectionString,
            ["Spool:BlobContainerName"] = Azurite.NewContainerName(),
            ["UpstreamHeaders:X-Tenant"] = "spool-test",
        };
}
