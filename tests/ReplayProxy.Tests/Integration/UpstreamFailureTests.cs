using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Tests.Integration;

public abstract class UpstreamFailureTests<TProxy> : IClassFixture<UpstreamFailureTests<TProxy>.Fixture>
    where TProxy : IProxyKind
{
    private const int TimeoutSeconds = 2;
    private readonly FakeAmplitude _upstream;
    private readonly IProxyUnderTest _proxy;
    private readonly HttpClient _client;

    protected UpstreamFailureTests(Fixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        _upstream = fixture.Cleared();
        _upstream.Respond = FakeAmplitude.DefaultRespond;
        _proxy = fixture.Proxy;
        // Each test that expects a log line waits for it, so what is left is the earlier tests' lines.
        _proxy.Logs?.Clear();
        _client = fixture.Client;
    }

    /// <summary>The proxy with an idle timeout of <see cref="TimeoutSeconds"/>, in front of a fake each test makes misbehave.</summary>
    public sealed class Fixture : ProxyFixture<TProxy>
    {
        protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
        {
            ["UpstreamTimeoutSeconds"] = TimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Config fallback and diagnostics rewrite off: these are the streaming forwarder's failures (ConfigFallback
            // tests cover the config path).
            ["ConfigStaleLimitSeconds"] = "0",
            ["AllowSdkDiagnostics"] = "true",
        };
    }

    [Fact]
    public async Task Connection_refused_is_502_not_a_timeout()
    {
        var closed = Loopback.ClosedAddress();
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(closed));
        using var client = proxy.CreateClient();

        using var response = await client.PostAsync("/sessions/v2/track?api_key=secretkey", new ByteArrayContent([1, 2, 3]));

        // 502 and not 504: the refusal is the answer; the proxy did not wait for its idle timeout.
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway);
        Assert.DoesNotContain("secretkey", problem.ToString(), StringComparison.Ordinal);
        // The worker logs in another process: its log lines are not captured here.
        if (proxy.Logs is { } logs)
        {
            // The start-up note about the empty key list is not about this request.
            var warning = Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning && e.Category != "ReplayProxy.ApiKeyListWarning");
            Assert.Contains("connection_failed", warning.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("secretkey", warning.State, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Dns_failure_is_502()
    {
        var nowhere = new Uri("http://replay-proxy-test.invalid");
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(nowhere));
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/config/key");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway);
    }

    [Fact]
    public async Task Upstream_that_never_answers_is_504_after_the_timeout()
    {
        _upstream.Respond = static (context, _) => Task.Delay(Timeout.Infinite, context.RequestAborted);

        var watch = Stopwatch.StartNew();
        using var response = await _client.PostAsync("/2/httpapi", new StringContent("{}"));
        watch.Stop();

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout);
        // Never before the timeout (no upper bound: a loaded machine may answer later).
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(TimeoutSeconds - 0.1), $"answered after {watch.Elapsed}");
    }

    [Fact]
    public async Task Upstream_stalling_after_headers_aborts_the_client_connection()
    {
        _upstream.Respond = static async (context, _) =>
        {
            context.Response.ContentLength = 100;
            await context.Response.WriteAsync("partial");
            await context.Response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        };

        using var response = await _client.GetAsync("/config/key", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(100, response.Content.Headers.ContentLength);

        await AssertCutShortAsync(response);
        // YARP cuts the client connection before the handler logs. The worker's logs are in another process.
        if (_proxy.Logs is { } logs)
        {
            await Eventually.WaitUntil(() => logs.Entries.Any(e => e.Category.StartsWith("ReplayProxy", StringComparison.Ordinal)), TimeSpan.FromSeconds(5));
            Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("response_aborted", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Upstream_reset_mid_body_aborts_the_client_connection_never_a_short_complete_body()
    {
        var clientSawHead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Respond = async (context, _) =>
        {
            // Chunked, so only the reset tells the proxy the body is short.
            await context.Response.WriteAsync(new string('x', 10_000));
            await context.Response.Body.FlushAsync();
            // Reset once the client has the head; a reset before anything reached the client is rightly a plain 502.
            await clientSawHead.Task.WaitAsync(TimeSpan.FromSeconds(30));
            context.Abort();
        };

        using var response = await _client.GetAsync("/config/key", HttpCompletionOption.ResponseHeadersRead);
        clientSawHead.SetResult();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await AssertCutShortAsync(response);
        // YARP cuts the client connection before the handler logs. The worker's logs are in another process.
        if (_proxy.Logs is { } logs)
        {
            await Eventually.WaitUntil(() => logs.Entries.Any(e => e.Category.StartsWith("ReplayProxy", StringComparison.Ordinal)), TimeSpan.FromSeconds(5));
            Assert.True(
                logs.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains("response_aborted", StringComparison.Ordinal)),
                string.Join("\n", logs.Entries.Where(e => e.Level >= LogLevel.Debug).Select(e => $"{e.Level} {e.Message}")));
        }
    }

    /// <summary>The client sees the response end before its framing said it would: the connection was cut, not closed
    /// after a complete (short) body.</summary>
    private static async Task AssertCutShortAsync(HttpResponseMessage response)
    {
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => response.Content.ReadAsByteArrayAsync());
        Assert.IsAssignableFrom<IOException>(failure.InnerException);
    }

    [Fact]
    public async Task Large_response_arrives_byte_identical()
    {
        var payload = new byte[5 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(payload);
        _upstream.Respond = async (context, _) =>
        {
            context.Response.ContentType = "application/octet-stream";
            await context.Response.Body.WriteAsync(payload);
        };

        using var response = await _client.GetAsync("/config/key");

        Assert.Equal(payload, await response.Content.ReadAsByteArrayAsync());
    }
}

public sealed class StandaloneUpstreamFailureTests(UpstreamFailureTests<StandaloneProxy>.Fixture fixture) : UpstreamFailureTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsUpstreamFailureTests(UpstreamFailureTests<FunctionsProxy>.Fixture fixture) : UpstreamFailureTests<FunctionsProxy>(fixture);
