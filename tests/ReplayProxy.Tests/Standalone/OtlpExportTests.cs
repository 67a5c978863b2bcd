using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ReplayProxy.Tests.Standalone;

/// <summary>
/// The standalone host exports its <c>ReplayProxy</c> meter and spans over OTLP/HTTP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and nothing of a request's key, query, cookie or authorization reaches
/// the collector.
/// </summary>
public sealed class OtlpExportTests
{
    private const string ApiKey = "0123456789abcdef0123456789abcdef";
    private const string QueryValue = "query-marker-5f1d";
    private const string DeviceId = "device-marker-77ac";
    private const string CookieValue = "cookie-marker-93be";
    private const string AuthorizationValue = "authorization-marker-c2d4";

    [Fact]
    public async Task Metrics_and_spans_of_a_proxied_request_arrive_without_keys_queries_cookies_or_authorization()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var collector = await FakeOtlpReceiver.StartAsync();
        await using var host = StandaloneProcess.Start(new Dictionary<string, string>
        {
            ["ReplayProxy__Upstreams__Replay"] = upstream.BaseAddress.ToString(),
            ["ReplayProxy__Upstreams__Config"] = upstream.BaseAddress.ToString(),
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseAddress.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        using var client = new HttpClient { BaseAddress = await host.ListeningAsync() };

        using var config = new HttpRequestMessage(HttpMethod.Get, $"/config/{ApiKey}?config_group=browser&marker={QueryValue}");
        config.Headers.Add("Cookie", $"site_session={CookieValue}");
        config.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AuthorizationValue);
        using var configResponse = await client.SendAsync(config);
        using var upload = new HttpRequestMessage(HttpMethod.Post, $"/sessions/v2/track?device_id={DeviceId}&session_id=1&type=replay")
        {
            Content = new ByteArrayContent("{\"version\":1,\"events\":[]}"u8.ToArray()),
        };
        upload.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        using var uploadResponse = await client.SendAsync(upload);
        Assert.Equal(HttpStatusCode.OK, configResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, uploadResponse.StatusCode);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        // Exports are batched: the config request's span or metrics can arrive before the upload's. Wait for all.
        while (DateTime.UtcNow < deadline && !(Exported(collector, "/v1/metrics", "replay_proxy.requests") && Exported(collector, "/v1/metrics", "replay_proxy.request.duration")
            && Exported(collector, "/v1/traces", "replay_proxy.route") && Exported(collector, "/v1/traces", "POST track")))
        {
            await Task.Delay(200);
        }

        var received = collector.Received;
        var paths = string.Join(", ", received.Select(r => r.Path).Distinct());
        Assert.True(Exported(collector, "/v1/metrics", "replay_proxy.requests"), $"no replay_proxy.requests metric arrived (got: {paths})\n{host.Output}");
        Assert.True(Exported(collector, "/v1/traces", "replay_proxy.route"), $"no span of the proxy arrived (got: {paths}; traces: {Printable(collector, "/v1/traces")})\n{host.Output}");
        Assert.All(received, r => Assert.StartsWith("application/x-protobuf", r.ContentType, StringComparison.Ordinal));
        Assert.Contains(received, r => r.Path == "/v1/metrics" && Contains(r.Body, ReplayProxyTelemetry.MeterName) && Contains(r.Body, "replay_proxy.request.duration"));
        Assert.Contains(received, r => r.Path == "/v1/traces" && Contains(r.Body, ReplayProxyTelemetry.ActivitySourceName) && Contains(r.Body, "POST track"));

        foreach (var secret in new[] { ApiKey, QueryValue, "config_group", DeviceId, CookieValue, AuthorizationValue, "Bearer" })
        {
            Assert.DoesNotContain(received, r => Contains(r.AllBytes(), secret));
        }

        // A span is current while the proxy forwards: its trace context must still not reach Amplitude.
        Assert.All(upstream.Received, r => Assert.Null(r.Header("traceparent")));
    }

    private static bool Exported(FakeOtlpReceiver collector, string path, string text) =>
        collector.Received.Any(r => r.Path == path && Contains(r.Body, text));

    private static string Printable(FakeOtlpReceiver collector, string path) =>
        string.Join(" | ", collector.Received.Where(r => r.Path == path).Select(r => new string(Encoding.UTF8.GetString(r.Body).Select(c => char.IsControl(c) ? '.' : c).ToArray())));

    private static bool Contains(byte[] haystack, string text) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}
