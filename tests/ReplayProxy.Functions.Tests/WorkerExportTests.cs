using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ReplayProxy.Functions.Tests;

/// <summary>
/// Azure Monitor export from the real worker through the real exporter, to a fake ingestion endpoint on 127.0.0.1
/// (<c>IngestionEndpoint</c> of <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>). Without a connection string the
/// worker runs and exports nothing: every other worker-path test runs that way, and <see cref="WorkerTests"/> checks
/// that no tracer is built. Entra authentication (<c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c>) needs Azure's
/// identity endpoint and is checked up to the credential in <see cref="WorkerTests"/>.
/// </summary>
[Collection(WorkerPathCollection.Name)]
public sealed class WorkerExportTests
{
    private const string Key = "k3ySecretExport0123456789";
    private const string QueryMarker = "qm7Zx9";
    private const string CookieValue = "c00kieSecretVal";
    private const string BodyMarker = "b0dyMarkerXq42";

    [Fact]
    public async Task A_proxied_replay_upload_is_exported_with_no_secret_in_anything_sent()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var ingestion = await FakeAmplitude.StartAsync();
        await using var host = await FunctionsHostProcess.StartAsync(ExportingTo(upstream, ingestion));
        using var client = ProxyClient.Create(host.BaseAddress);

        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/v2/track?device_id={QueryMarker}&session_id=1&api_key={Key}"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            request.Headers.Add("Cookie", "site=" + CookieValue);
            request.Headers.Add("Origin", WorkerPath.AllowedOrigin);
            request.Content = new StringContent($$"""{"version":1,"events":["{{BodyMarker}}"]}""", Encoding.UTF8, "application/json");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The exporter sends on its own schedule; stopping the host terminates the worker, which flushes the rest.
        await Eventually.WaitUntil(() => Ingestion.Items(ingestion).Any(IsUpstreamCall), TimeSpan.FromSeconds(60));

        Assert.Equal(0, await host.StopAsync());

        var items = Ingestion.Items(ingestion);
        // In Azure the request itself (RequestData) is the host's span; the worker's share is the invocation of the
        // function, the call to Amplitude under it, and the proxy's request metric.
        Assert.Contains(items, t => t.Contains("\"name\":\"function proxy\"", StringComparison.Ordinal) && t.Contains("\"faas.name\":\"proxy\"", StringComparison.Ordinal));
        Assert.Contains(items, IsUpstreamCall);
        Assert.Contains(items, t => t.Contains("\"name\":\"replay_proxy.requests\"", StringComparison.Ordinal) && t.Contains("\"replay_proxy.route\":\"track\"", StringComparison.Ordinal));
        Assert.All(ingestion.Received, r => Assert.Equal("/v2.1/track", r.Path));
        var everything = string.Join("\n", items.Concat(ingestion.Received.SelectMany(r => r.Headers.Select(h => $"{h.Key}: {h.Value}")).Concat(ingestion.Received.Select(r => r.Query))));
        foreach (var secret in new[] { Key, QueryMarker, CookieValue, BodyMarker, "api_key", "Bearer", "Cookie", "Authorization" })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Requests_are_not_logged_one_by_one_to_Application_Insights()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var ingestion = await FakeAmplitude.StartAsync();
        await using var host = await FunctionsHostProcess.StartAsync(ExportingTo(upstream, ingestion));
        using var client = ProxyClient.Create(host.BaseAddress);
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/sessions/v2/track?device_id=d&session_id=1");
            request.Content = new StringContent("""{"version":1,"events":[]}""", Encoding.UTF8, "application/json");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Eventually.WaitUntil(() => Ingestion.Items(ingestion).Any(IsUpstreamCall), TimeSpan.FromSeconds(60));

        Assert.Equal(0, await host.StopAsync());

        // The worker logs at Information as deployed; the start-up lines are exported, but no line per request (ASP.NET
        // Core's "Executing endpoint" and "Executed endpoint"), which Application Insights would bill for every upload.
        var items = Ingestion.Lines(ingestion);
        Assert.Contains(items, IsUpstreamCall);
        Assert.Contains(items, t => t.Contains("\"MessageData\"", StringComparison.Ordinal) && t.Contains("\"CategoryName\":\"Microsoft.Hosting.Lifetime\"", StringComparison.Ordinal));
        Assert.DoesNotContain(items, t => t.Contains("\"MessageData\"", StringComparison.Ordinal) && t.Contains("\"CategoryName\":\"Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    /// <summary>The worker's settings with the Azure Monitor export pointed at <paramref name="ingestion"/>.</summary>
    private static Dictionary<string, string?> ExportingTo(FakeAmplitude upstream, FakeAmplitude ingestion)
    {
        var settings = WorkerPath.Settings(upstream.BaseAddress);
        settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] =
            $"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={ingestion.BaseAddress}";
        return settings;
    }

    private static bool IsUpstreamCall(string item) =>
        item.Contains("\"RemoteDependencyData\"", StringComparison.Ordinal) && item.Contains("\"replay_proxy.route\":\"track\"", StringComparison.Ordinal);
}
