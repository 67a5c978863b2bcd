using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Tests.Integration;

/// <summary>
/// No third-party diagnostics (issue 17): the browser SDK posts diagnostics straight to Amplitude's diagnostics host,
/// past the proxy, when the config answer enables them. By default every config answer the browser gets, fresh or from
/// memory, plain or compressed, has <c>configs.diagnostics.browserSDK</c> switched off and is otherwise Amplitude's
/// bytes; <c>AllowSdkDiagnostics=true</c> relays them unchanged.
/// </summary>
public abstract class SdkDiagnosticsTests<TProxy> : IClassFixture<SdkDiagnosticsTests<TProxy>.Fixture>
    where TProxy : IProxyKind
{
    /// <summary>Diagnostics on, odd spacing, a nested look-alike and fields around it: only two values may change.</summary>
    private const string Enabled = """{"configs": {"diagnostics": {"browserSDK": {"enabled": true, "sampleRate": 0.25, "extra": {"enabled": true}}}, "sessionReplay": {"sr_sampling_config": {"sample_rate": 1, "capture_enabled": true}}}, "enabled": true}""";
    private const string SwitchedOff = """{"configs": {"diagnostics": {"browserSDK": {"enabled": false, "sampleRate": 0, "extra": {"enabled": true}}}, "sessionReplay": {"sr_sampling_config": {"sample_rate": 1, "capture_enabled": true}}}, "enabled": true}""";
    private const string ETag = "\"cfg-v1\"";

    private readonly FakeAmplitude _upstream;
    private readonly HttpClient _client;

    protected SdkDiagnosticsTests(Fixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        _upstream = fixture.Cleared();
        _upstream.Respond = FakeAmplitude.DefaultRespond;
        _client = fixture.Client;
    }

    /// <summary>The shipped defaults: fallback on, diagnostics rewritten.</summary>
    public sealed class Fixture : ProxyFixture<TProxy>;

    [Fact]
    public async Task A_fresh_answer_has_the_diagnostics_switched_off_and_is_otherwise_amplitudes_bytes()
    {
        _upstream.Respond = Answer(Encoding.UTF8.GetBytes(Enabled));

        using var response = await _client.GetAsync("/config/freshkey?config_group=browser");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(SwitchedOff, Encoding.UTF8.GetString(body));
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("W/" + ETag, response.Headers.ETag?.ToString());
        Assert.False(response.Content.Headers.Contains("Content-MD5"));
        Assert.Equal("max-age=60", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task The_answer_from_memory_has_the_diagnostics_switched_off()
    {
        _upstream.Respond = Answer(Encoding.UTF8.GetBytes(Enabled));
        using (var fresh = await _client.GetAsync("/config/stalekey?config_group=browser"))
        {
            Assert.Equal(SwitchedOff, await fresh.Content.ReadAsStringAsync());
        }

        _upstream.Respond = static (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        };
        using var stale = await _client.GetAsync("/config/stalekey?config_group=browser");

        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal("true", Assert.Single(stale.Headers.GetValues("X-Replay-Proxy-Stale")));
        var body = await stale.Content.ReadAsByteArrayAsync();
        Assert.Equal(SwitchedOff, Encoding.UTF8.GetString(body));
        Assert.Equal(body.Length, stale.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task A_gzip_answer_is_rewritten_and_sent_gzip_with_its_new_length_fresh_and_from_memory()
    {
        _upstream.Respond = Answer(Gzip.Compress(Encoding.UTF8.GetBytes(Enabled)), "gzip");

        using var fresh = await GetAsync("/config/gzipkey?config_group=browser", "gzip, deflate, br, zstd");

        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(["gzip"], fresh.Content.Headers.ContentEncoding);
        var wire = await fresh.Content.ReadAsByteArrayAsync();
        Assert.Equal(wire.Length, fresh.Content.Headers.ContentLength);
        Assert.Equal(SwitchedOff, Gunzip(wire));
        Assert.Equal("W/" + ETag, fresh.Headers.ETag?.ToString());
        // zstd is not offered to Amplitude: the proxy could not open an answer in it.
        Assert.Equal("gzip, deflate, br", Assert.Single(_upstream.Received).Header("Accept-Encoding"));

        _upstream.Respond = static (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        };
        using var stale = await GetAsync("/config/gzipkey?config_group=browser", "gzip");
        Assert.Equal("true", Assert.Single(stale.Headers.GetValues("X-Replay-Proxy-Stale")));
        Assert.Equal(["gzip"], stale.Content.Headers.ContentEncoding);
        var staleWire = await stale.Content.ReadAsByteArrayAsync();
        Assert.Equal(staleWire.Length, stale.Content.Headers.ContentLength);
        Assert.Equal(SwitchedOff, Gunzip(staleWire));
    }

    [Theory]
    [InlineData(200, """{"configs":{"sessionReplay":{"sr_sampling_config":{"sample_rate":1,"capture_enabled":true}}}}""")]
    [InlineData(200, """{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}}}}""")]
    [InlineData(200, "not json {\"configs\":{\"diagnostics\":{\"browserSDK\":{\"enabled\":true,\"sampleRate\":1}}}}")]
    [InlineData(404, Enabled)]
    [InlineData(203, Enabled)]
    public async Task An_answer_with_nothing_to_switch_off_or_not_a_200_is_relayed_byte_identical(int status, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        _upstream.Respond = Answer(bytes, status: status);

        using var response = await _client.GetAsync("/config/untouched" + status + "?q=" + bytes.Length);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(ETag, response.Headers.ETag?.ToString());
        Assert.True(response.Content.Headers.Contains("Content-MD5"));
    }

    [Fact]
    public async Task With_the_fallback_off_config_answers_are_still_rewritten()
    {
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(_upstream.BaseAddress), new Dictionary<string, string?> { ["ConfigStaleLimitSeconds"] = "0" });
        using var client = proxy.CreateClient();
        _upstream.Respond = Answer(Encoding.UTF8.GetBytes(Enabled));

        using var response = await client.GetAsync("/config/nofallback?config_group=browser");

        Assert.Equal(SwitchedOff, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_AllowSdkDiagnostics_config_answers_are_relayed_byte_identical()
    {
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(_upstream.BaseAddress), new Dictionary<string, string?> { ["AllowSdkDiagnostics"] = "true" });
        using var client = proxy.CreateClient();
        var plain = Encoding.UTF8.GetBytes(Enabled);
        var gzip = Gzip.Compress(plain);

        _upstream.Respond = Answer(plain);
        using var response = await client.GetAsync("/config/allowed?config_group=browser");
        Assert.Equal(plain, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(ETag, response.Headers.ETag?.ToString());

        _upstream.Respond = Answer(gzip, "gzip");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/config/allowed?config_group=gzip");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, zstd");
        using var compressed = await client.SendAsync(request);
        Assert.Equal(gzip, await compressed.Content.ReadAsByteArrayAsync());
        Assert.Equal("gzip, zstd", _upstream.Received.Last().Header("Accept-Encoding"));
    }

    private Task<HttpResponseMessage> GetAsync(string path, string acceptEncoding)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        return _client.SendAsync(request);
    }

    /// <summary>Amplitude's answer with the headers that describe its exact bytes.</summary>
    private static Func<HttpContext, ReceivedRequest, Task> Answer(byte[] body, string? contentEncoding = null, int status = 200) => async (context, _) =>
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.ETag = ETag;
        context.Response.Headers["Content-MD5"] = Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(body));
        context.Response.Headers.CacheControl = "max-age=60";
        if (contentEncoding is not null)
        {
            context.Response.Headers.ContentEncoding = contentEncoding;
        }

        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    };

    private static string Gunzip(byte[] body)
    {
        using var input = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return Encoding.UTF8.GetString(output.ToArray());
    }
}

public sealed class StandaloneSdkDiagnosticsTests(SdkDiagnosticsTests<StandaloneProxy>.Fixture fixture) : SdkDiagnosticsTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsSdkDiagnosticsTests(SdkDiagnosticsTests<FunctionsProxy>.Fixture fixture) : SdkDiagnosticsTests<FunctionsProxy>(fixture);
