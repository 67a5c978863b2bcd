using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;

namespace ReplayProxy.Tests.Integration;

/// <summary>Bodies are bytes: whatever the client sends, Amplitude receives bit for bit.</summary>
public abstract class IntegrityTests<TProxy>(ProxyFixture<TProxy> fixture) : IClassFixture<ProxyFixture<TProxy>>
    where TProxy : IProxyKind
{
    private static byte[] GzipOfRandom(int rawSize, int seed)
    {
        var raw = new byte[rawSize];
        new Random(seed).NextBytes(raw);
        return Gzip.Compress(raw, CompressionLevel.NoCompression);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64 * 1024 - 1)]
    [InlineData(64 * 1024 + 1)]
    [InlineData(6 * 1024 * 1024)]
    [InlineData(20 * 1024 * 1024 - 8192)]
    public async Task Gzip_bodies_arrive_byte_identical_with_their_length_and_encoding(int rawSize)
    {
        var body = GzipOfRandom(rawSize, rawSize);
        Assert.True(body.Length <= 20 * 1024 * 1024);
        var content = new ByteArrayContent(body);
        content.Headers.ContentEncoding.Add("gzip");
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        var query = $"?device_id=d&session_id={rawSize}&type=replay";

        using var response = await fixture.Client.PostAsync("/sessions/v2/track" + query, content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(fixture.Upstream.Received, r => r.Query == query);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(body)), received.BodySha256);
        Assert.Equal(body.Length, received.BodyLength);
        Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("Content-Length"));
        Assert.Equal("gzip", received.Header("Content-Encoding"));
    }

    [Fact]
    public async Task Concurrent_uploads_each_arrive_once_and_intact()
    {
        const int count = 64;
        var bodies = Enumerable.Range(0, count).Select(i => GzipOfRandom(1000 + (i * 7919 % 200_000), 1000 + i)).ToArray();

        var responses = await Task.WhenAll(bodies.Select(async (body, i) =>
        {
            using var response = await fixture.Client.PostAsync($"/sessions/v2/track?device_id=c&session_id={i}", new ByteArrayContent(body));
            return response.StatusCode;
        }));

        Assert.All(responses, status => Assert.Equal(HttpStatusCode.OK, status));
        var received = fixture.Upstream.Received.Where(r => r.Query.StartsWith("?device_id=c&", StringComparison.Ordinal)).ToList();
        Assert.Equal(count, received.Count);
        for (var i = 0; i < count; i++)
        {
            var match = Assert.Single(received, r => r.Query == $"?device_id=c&session_id={i}");
            Assert.Equal(Convert.ToHexString(SHA256.HashData(bodies[i])), match.BodySha256);
        }
    }
}

public sealed class StandaloneIntegrityTests(ProxyFixture<StandaloneProxy> fixture) : IntegrityTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsIntegrityTests(ProxyFixture<FunctionsProxy> fixture) : IntegrityTests<FunctionsProxy>(fixture);
