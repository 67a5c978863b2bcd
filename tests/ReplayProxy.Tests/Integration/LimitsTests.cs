using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ReplayProxy.Tests.Integration;

public abstract class LimitsTests<TProxy>(LimitsTests<TProxy>.Fixture fixture) : IClassFixture<LimitsTests<TProxy>.Fixture>
    where TProxy : IProxyKind
{
    private const int Limit = 100_000;
    private readonly FakeAmplitude _upstream = fixture.Cleared();
    private readonly IProxyUnderTest _proxy = fixture.Proxy;
    private readonly HttpClient _client = fixture.Client;

    /// <summary>The proxy with a body limit of <see cref="Limit"/> bytes.</summary>
    public sealed class Fixture : ProxyFixture<TProxy>
    {
        protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
        {
            ["MaxRequestBodyBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    [Fact]
    public async Task Body_over_the_limit_by_content_length_is_413_that_the_sdk_splits_and_nothing_is_forwarded()
    {
        using var response = await _client.PostAsync("/sessions/v2/track?device_id=d", new ByteArrayContent(new byte[Limit + 1]));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        // The replay SDK splits the batch only when the 413 body matches /payload.*exceed/i.
        Assert.Matches("(?i)payload.*exceed", problem.GetProperty("detail").GetString());
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Body_at_the_limit_is_forwarded()
    {
        var body = RandomNumberGenerator.GetBytes(Limit);
        using var response = await _client.PostAsync("/sessions/v2/track", new ByteArrayContent(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_upstream.Received);
        Assert.True(received.BodyCompleted);
        Assert.Equal(Limit, received.BodyLength);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(body)), received.BodySha256);
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_is_cut_off_while_streaming_with_413()
    {
        var answer = await SendOversizeChunkedUploadAsync(_proxy.BaseAddress);

        Assert.StartsWith("HTTP/1.1 413", answer, StringComparison.Ordinal);
        Assert.DoesNotContain(_upstream.Received, r => r.BodyCompleted && r.BodyLength > Limit);
    }

    /// <summary>Without Content-Length the size is known only while reading; an upstream that cannot be reached must
    /// not turn an oversize upload into a 502, which the replay SDK would retry instead of splitting.</summary>
    [Fact]
    public async Task Chunked_body_over_the_limit_is_413_even_when_the_upstream_is_unreachable()
    {
        var closed = Loopback.ClosedAddress();
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(closed), new Dictionary<string, string?> { ["MaxRequestBodyBytes"] = "100000" });

        var answer = await SendOversizeChunkedUploadAsync(proxy.BaseAddress);

        Assert.StartsWith("HTTP/1.1 413", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chunked_body_within_the_limit_is_502_when_the_upstream_is_unreachable()
    {
        var closed = Loopback.ClosedAddress();
        await using var proxy = await TProxy.StartAsync(ProxyUpstreams.All(closed), new Dictionary<string, string?> { ["MaxRequestBodyBytes"] = "100000" });

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(proxy.BaseAddress.Host, proxy.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /sessions/v2/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{10_000:X}\r\n"));
        await stream.WriteAsync(new byte[10_000]);
        await stream.WriteAsync("\r\n0\r\n\r\n"u8.ToArray());

        var answer = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 502", answer, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Client_abort_mid_upload_cancels_the_upstream_request(bool chunked)
    {
        var query = $"?device_id=abort&session_id={(chunked ? 1 : 2)}";
        // The Functions host reads a body with a Content-Length whole before it invokes the worker: an upload cut short
        // never reaches the proxy, so nothing reaches Amplitude. Everywhere else the proxy streams it.
        var hostBuffers = !chunked && TProxy.BehindFunctionsHost;
        var upstreamStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.BeforeBody = context =>
        {
            if (context.Request.QueryString.Value == query)
            {
                upstreamStarted.TrySetResult();
            }

            return Task.FromResult(false);
        };
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(_proxy.BaseAddress.Host, _proxy.BaseAddress.Port);
            var stream = tcp.GetStream();
            var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {Limit}";
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /sessions/v2/track{query} HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n"));
            await stream.WriteAsync(chunked ? Encoding.ASCII.GetBytes($"{Limit / 2:X}\r\n") : []);
            await stream.WriteAsync(new byte[Limit / 2]);
            await stream.FlushAsync();
            if (!hostBuffers)
            {
                // The client vanishes once the proxy is streaming the body upstream.
                await upstreamStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }

            tcp.Client.LingerState = new LingerOption(true, 0);
        }
        finally
        {
            _upstream.BeforeBody = null;
        }

        if (hostBuffers)
        {
            // An upload sent after the reset, through the same host, arrives; the cut one never does.
            using var after = await _client.PostAsync($"/sessions/v2/track?device_id=after-abort&session_id=2", new ByteArrayContent(new byte[10]));
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            Assert.False(upstreamStarted.Task.IsCompleted);
            Assert.DoesNotContain(_upstream.Received, r => r.Query == query);
            return;
        }

        // The fake records a request once its body ends, completed or cut off.
        await Eventually.WaitUntil(() => _upstream.Received.Any(r => r.Query == query), TimeSpan.FromSeconds(10));
        Assert.False(Assert.Single(_upstream.Received, r => r.Query == query).BodyCompleted);
    }

    /// <summary>
    /// Sends 3 MiB without Content-Length in 64 KiB pieces a moment apart, as a browser's upload arrives, against a limit
    /// of 100,000 bytes: the client (or the Functions host in front of the worker) is still sending long after the proxy
    /// refused the body. Returns the response head. (Written in one go the whole body sat in socket buffers before the
    /// proxy refused it, and a worker that dropped the connection still looked right.)
    /// </summary>
    private static async Task<string> SendOversizeChunkedUploadAsync(Uri proxy)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(proxy.Host, proxy.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync("POST /sessions/v2/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"u8.ToArray());
        var chunk = new byte[64 * 1024];
        try
        {
            for (var i = 0; i < 48; i++)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{chunk.Length:X}\r\n"));
                await stream.WriteAsync(chunk);
                await stream.WriteAsync("\r\n"u8.ToArray());
                await Task.Delay(1);
            }

            await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
        }
        catch (IOException)
        {
            // The proxy may close before the whole body is written.
        }

        return await RawHttp.ReadHeadAsync(stream);
    }
}

public sealed class StandaloneLimitsTests(LimitsTests<StandaloneProxy>.Fixture fixture) : LimitsTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsLimitsTests(LimitsTests<FunctionsProxy>.Fixture fixture) : LimitsTests<FunctionsProxy>(fixture);
