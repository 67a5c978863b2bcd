using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Functions.Tests;

/// <summary>
/// Issue 13 on the Functions path: the config fallback and <c>/healthz/upstreams</c> through the test host and the real
/// worker (the standalone host's cases are in the core's ConfigFallback and Diagnostics tests).
/// </summary>
[Collection(WorkerPathCollection.Name)]
public sealed class WorkerConfigFallbackTests(WorkerHostFixture fixture) : IClassFixture<WorkerHostFixture>
{
    private const string Remembered = """{"configs":{"sessionReplay":{"sr_sampling_config":{"sample_rate":1,"capture_enabled":true}}}}""";

    [Fact]
    public async Task When_Amplitude_answers_503_the_worker_serves_the_last_good_config_marked_stale()
    {
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);
        var path = $"/config/worker{Guid.NewGuid():N}?config_group=browser";
        fixture.Upstream.Respond = FakeAmplitude.DefaultRespond;
        using (var fresh = await client.GetAsync(path))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
            Assert.False(fresh.Headers.Contains("X-Replay-Proxy-Stale"));
        }

        fixture.Upstream.Respond = static async (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync("""{"error":"unavailable"}""");
        };
        try
        {
            using var stale = await client.GetAsync(path);

            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Equal("true", stale.Headers.GetValues("X-Replay-Proxy-Stale").Single());
            Assert.NotNull(stale.Headers.Age);
            Assert.Equal(Remembered, await stale.Content.ReadAsStringAsync());

            // A path this instance never saw has nothing to fall back on: Amplitude's 503 goes through.
            using var unseen = await client.GetAsync($"/config/never{Guid.NewGuid():N}?config_group=browser");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unseen.StatusCode);
        }
        finally
        {
            fixture.Upstream.Respond = FakeAmplitude.DefaultRespond;
        }
    }

    [Fact]
    public async Task Upstream_diagnostics_answer_through_the_worker_without_secrets()
    {
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);

        using var response = await client.GetAsync("/healthz/upstreams");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("healthy", json.RootElement.GetProperty("status").GetString());
        var upstream = Assert.Single(json.RootElement.GetProperty("upstreams").EnumerateArray());
        Assert.Equal(fixture.Upstream.BaseAddress.Host, upstream.GetProperty("host").GetString());
        Assert.True(json.RootElement.TryGetProperty("settings", out _));
    }
}
