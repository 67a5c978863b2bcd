using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace ReplayProxy.Tests.Reliability;

/// <summary>
/// 10,000 request bodies (0 B to 20 MiB, mostly small, gzip and raw, random bytes) through the proxy at a concurrency of
/// 32. The fake Amplitude hashes every body; the test compares: no mismatch, nothing lost, nothing duplicated. Every
/// response (some of them megabytes, some chunked) is checked byte for byte on the way back.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class IntegrityAtScaleTests(ITestOutputHelper output)
{
    public const int Count = 10_000;
    public const int Concurrency = 32;
    private const int MaxBody = (int)ReplayProxyOptions.DefaultMaxRequestBodyBytes;

    internal readonly record struct Plan(int Index, string Target, int Size, bool Gzip, int ResponseSize, bool ResponseChunked);

    /// <summary>Deterministic per index. CI: 8 large bodies (1–20 MiB, one exactly at the 20 MiB limit), 100 medium
    /// (16 KiB–1 MiB), the rest 0–16 KiB; 25 responses of 256 KiB–4 MiB. Heavy: 200 large bodies, 200 large responses.</summary>
    internal static Plan PlanFor(int i, bool heavy)
    {
        var random = new Random(unchecked((i * 7919) + 17));
        var largeEvery = heavy ? 50 : 1250;
        int size;
        if (i == 7)
        {
            size = MaxBody;
        }
        else if (i % largeEvery == 7)
        {
            size = (1 << 20) + random.Next(19 << 20);
        }
        else if (i % 100 == 3)
        {
            size = (16 << 10) + random.Next(1 << 20);
        }
        else
        {
            size = i % 97 == 0 ? 0 : random.Next(16 << 10);
        }

        var gzip = i % 2 == 0 && i != 7;
        var responseSize = i % (heavy ? 50 : 400) == 11 ? (256 << 10) + random.Next(heavy ? 16 << 20 : 4 << 20) : random.Next(64);
        var target = (i % 10) switch
        {
            8 => $"/2/httpapi?i={i}&r={responseSize}",
            9 => $"/batch?i={i}&r={responseSize}",
            _ => $"/sessions/v2/track?device_id=integrity&session_id=1&type=replay&i={i}&r={responseSize}",
        };
        return new Plan(i, target, size, gzip, responseSize, i % 3 == 0);
    }

    internal static byte[] BodyFor(Plan plan)
    {
        var raw = new byte[plan.Gzip ? Math.Min(plan.Size, MaxBody - (256 << 10)) : plan.Size];
        new Random(plan.Index).NextBytes(raw);
        if (!plan.Gzip)
        {
            return raw;
        }

        return Gzip.Compress(raw, raw.Length > (1 << 20) ? CompressionLevel.NoCompression : CompressionLevel.Fastest);
    }

    internal static byte[] ResponseFor(int index, int size)
    {
        var bytes = new byte[size];
        new Random(~index).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The fake answers each request with the response its plan names (query <c>i</c> and <c>r</c>).</summary>
    internal static async Task RespondWithPlannedBytes(HttpContext context, ReceivedRequest request)
    {
        var i = int.Parse(context.Request.Query["i"].ToString(), CultureInfo.InvariantCulture);
        var size = int.Parse(context.Request.Query["r"].ToString(), CultureInfo.InvariantCulture);
        context.Response.ContentType = "application/octet-stream";
        if (i % 3 != 0)
        {
            context.Response.ContentLength = size;
        }

        await context.Response.Body.WriteAsync(ResponseFor(i, size));
    }

    [Fact]
    public async Task Ten_thousand_bodies_at_concurrency_32_arrive_once_each_byte_identical_and_so_do_the_responses()
    {
        var heavy = SerialCollection.Heavy;
        await using var upstream = await FakeAmplitude.StartAsync();
        upstream.KeepBodiesUpTo = 0;
        upstream.Respond = RespondWithPlannedBytes;
        await using var proxy = await ProxyHost.StartAsync(upstream);
        using var client = proxy.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(2);

        var expected = new (string Sha, long Length, bool Gzip)[Count];
        var statuses = new int[Count];
        var responseMismatches = 0;
        long bytesUp = 0, bytesDown = 0;
        var watch = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
        {
            var plan = PlanFor(i, heavy);
            var body = BodyFor(plan);
            expected[i] = (Convert.ToHexString(SHA256.HashData(body)), body.Length, plan.Gzip);
            using var content = new ByteArrayContent(body);
            content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            if (plan.Gzip)
            {
                content.Headers.ContentEncoding.Add("gzip");
            }

            using var response = await client.PostAsync(plan.Target, content, ct);
            var answer = await response.Content.ReadAsByteArrayAsync(ct);
            statuses[i] = (int)response.StatusCode;
            if (!answer.AsSpan().SequenceEqual(ResponseFor(i, plan.ResponseSize)))
            {
                Interlocked.Increment(ref responseMismatches);
            }

            Interlocked.Add(ref bytesUp, body.Length);
            Interlocked.Add(ref bytesDown, answer.Length);
        });
        watch.Stop();

        var byIndex = upstream.Received
            .GroupBy(r => int.Parse(QueryValue(r.Query, "i"), CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.ToList());
        var lost = Enumerable.Range(0, Count).Count(i => !byIndex.ContainsKey(i));
        var duplicated = byIndex.Values.Count(list => list.Count > 1);
        var mismatched = byIndex.Count(kv =>
        {
            var r = kv.Value[0];
            var (sha, length, gzip) = expected[kv.Key];
            return !r.BodyCompleted || r.BodySha256 != sha || r.BodyLength != length
                || r.Header("Content-Length") != length.ToString(CultureInfo.InvariantCulture)
                || r.Header("Content-Encoding") != (gzip ? "gzip" : null);
        });
        var sizes = expected.Select(e => e.Length).ToArray();

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Count} bodies ({sizes.Count(s => s >= 1 << 20)} ≥ 1 MiB, largest {sizes.Max()} B, {expected.Count(e => e.Gzip)} gzip), {bytesUp / 1048576.0:F1} MiB up, {bytesDown / 1048576.0:F1} MiB down, concurrency {Concurrency}{(heavy ? ", heavy" : string.Empty)}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{watch.Elapsed.TotalSeconds:F1} s ({Count / watch.Elapsed.TotalSeconds:F0} req/s); non-200: {statuses.Count(s => s != 200)}; body mismatches: {mismatched}; lost: {lost}; duplicated: {duplicated}; response mismatches: {responseMismatches}"));

        Assert.All(statuses, s => Assert.Equal(200, s));
        Assert.Equal(0, lost);
        Assert.Equal(0, duplicated);
        Assert.Equal(0, mismatched);
        Assert.Equal(0, responseMismatches);
        Assert.Equal(Count, upstream.Received.Count);
        // The start-up note about the empty key list aside, nothing at Warning or above.
        Assert.DoesNotContain(proxy.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && e.Category != "ReplayProxy.ApiKeyListWarning");
    }

    /// <summary>With an API-key allow-list the proxy buffers analytics bodies to read <c>api_key</c>: a different code path,
    /// held to the same standard.</summary>
    [Fact]
    public async Task Buffered_analytics_bodies_arrive_byte_identical()
    {
        const int count = 1_000;
        const string key = "aaaabbbbccccddddeeeeffff00001111";
        await using var upstream = await FakeAmplitude.StartAsync();
        upstream.KeepBodiesUpTo = 0;
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { ["AllowedApiKeys"] = key });
        using var client = proxy.CreateClient();
        var expected = new string[count];
        var statuses = new int[count];

        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
        {
            var random = new Random(i);
            var pad = new byte[i % 50 == 0 ? random.Next(4 << 20) : random.Next(8 << 10)];
            random.NextBytes(pad);
            var json = Encoding.UTF8.GetBytes($$$"""{"api_key":"{{{key}}}","events":[{"event_type":"e{{{i}}}","event_properties":{"pad":"{{{Convert.ToBase64String(pad)}}}"}}],"options":{}}""");
            var body = json;
            if (i % 2 == 0)
            {
                body = Gzip.Compress(json);
            }

            expected[i] = Convert.ToHexString(SHA256.HashData(body));
            using var content = new ByteArrayContent(body);
            content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            if (i % 2 == 0)
            {
                content.Headers.ContentEncoding.Add("gzip");
            }

            using var response = await client.PostAsync($"{(i % 3 == 0 ? "/batch" : "/2/httpapi")}?i={i}", content, ct);
            statuses[i] = (int)response.StatusCode;
        });

        var received = upstream.Received.ToLookup(r => int.Parse(QueryValue(r.Query, "i"), CultureInfo.InvariantCulture));
        Assert.All(statuses, s => Assert.Equal(200, s));
        Assert.Equal(count, upstream.Received.Count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(expected[i], Assert.Single(received[i]).BodySha256);
        }
    }

    internal static string QueryValue(string query, string name)
    {
        foreach (var part in query.TrimStart('?').Split('&'))
        {
            if (part.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return part[(name.Length + 1)..];
            }
        }

        return "-1";
    }
}
