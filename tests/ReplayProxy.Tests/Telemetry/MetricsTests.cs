using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Tests.Telemetry;

/// <summary>The proxy's meter as an exporter sees it: the error kinds a dashboard splits by, and the body sizes.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Dns_failure_is_counted_as_a_dns_upstream_error()
    {
        var nowhere = new Uri("http://replay-proxy-test.invalid");
        await using var proxy = await ProxyHost.StartAsync(nowhere, nowhere, nowhere);
        using var metrics = new Measurements(proxy);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/config/key");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        await AssertUpstreamErrorAsync(metrics, "config", "replay-proxy-test.invalid", "dns");
    }

    [Fact]
    public async Task Tls_handshake_with_a_plain_http_server_is_counted_as_a_tls_upstream_error()
    {
        await using var plain = await FakeAmplitude.StartAsync();
        var https = new UriBuilder(plain.BaseAddress) { Scheme = Uri.UriSchemeHttps }.Uri;
        await using var proxy = await ProxyHost.StartAsync(https, https, https);
        using var metrics = new Measurements(proxy);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/config/key");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        await AssertUpstreamErrorAsync(metrics, "config", "127.0.0.1", "tls");
        Assert.Empty(plain.Received);
    }

    [Fact]
    public async Task An_answer_that_is_not_http_is_counted_as_a_protocol_upstream_error()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var garbage = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await socket.ReceiveAsync(new byte[4096]);
            await socket.SendAsync(Encoding.ASCII.GetBytes("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
            // Open until the proxy, having read the garbage, closes its end (a close of ours could read as a reset).
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                while (await socket.ReceiveAsync(new byte[4096], SocketFlags.None, bound.Token) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
            }
        });
        var upstream = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        await using var proxy = await ProxyHost.StartAsync(upstream, upstream, upstream);
        using var metrics = new Measurements(proxy);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/config/key");
        await garbage;

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        await AssertUpstreamErrorAsync(metrics, "config", "127.0.0.1", "protocol");
    }

    [Fact]
    public async Task Body_sizes_are_recorded_per_route_and_status_in_bytes()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        var answer = new byte[4321];
        upstream.Respond = (context, _) => context.Response.Body.WriteAsync(answer).AsTask();
        await using var proxy = await ProxyHost.StartAsync(upstream);
        using var metrics = new Measurements(proxy);
        using var client = proxy.CreateClient();

        using var response = await client.PostAsync("/sessions/v2/track?device_id=d", new ByteArrayContent(new byte[1234]));
        Assert.Equal(answer.Length, (await response.Content.ReadAsByteArrayAsync()).Length);

        var sent = Assert.Single(await metrics.WhenRecordedAsync("replay_proxy.request.body.size"));
        Assert.Equal(1234, sent.Value);
        Assert.Equal("track", sent.Tags["replay_proxy.route"]);
        Assert.Equal(200, sent.Tags["http.response.status_code"]);
        var received = Assert.Single(await metrics.WhenRecordedAsync("replay_proxy.response.body.size"));
        Assert.Equal(answer.Length, received.Value);
        Assert.Equal("track", received.Tags["replay_proxy.route"]);
    }

    [Fact]
    public async Task A_request_without_a_body_records_no_request_size()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);
        using var metrics = new Measurements(proxy);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/config/key");
        await response.Content.ReadAsByteArrayAsync();

        // The response size is recorded after the request size would have been.
        Assert.Single(await metrics.WhenRecordedAsync("replay_proxy.response.body.size"));
        Assert.Empty(metrics.Named("replay_proxy.request.body.size"));
    }

    private static async Task AssertUpstreamErrorAsync(Measurements metrics, string route, string host, string errorType)
    {
        var request = Assert.Single(await metrics.WhenRecordedAsync("replay_proxy.requests"));
        var error = Assert.Single(metrics.Named("replay_proxy.upstream.errors"));
        Assert.Equal(errorType, error.Tags["error.type"]);
        Assert.Equal(route, error.Tags["replay_proxy.route"]);
        Assert.Equal(host, error.Tags["server.address"]);
        Assert.Equal(errorType, request.Tags["error.type"]);
        Assert.Equal(StatusCodes.Status502BadGateway, request.Tags["http.response.status_code"]);
    }

    private sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

    /// <summary>Everything one proxy's meter records (meters of other proxies in parallel tests are left out).</summary>
    private sealed class Measurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<Measurement> _recorded = new();

        public Measurements(ProxyHost proxy)
        {
            var factory = proxy.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ReplayProxyTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.Start();
        }

        public IReadOnlyList<Measurement> Named(string instrument) => _recorded.Where(m => m.Instrument == instrument).ToList();

        /// <summary>What <paramref name="instrument"/> recorded, once it has recorded anything: the proxy records a
        /// request after the answer is written, so a client can read an answer with a Content-Length first.</summary>
        public async Task<IReadOnlyList<Measurement>> WhenRecordedAsync(string instrument)
        {
            await Eventually.WaitUntil(() => _recorded.Any(m => m.Instrument == instrument), TimeSpan.FromSeconds(10));
            return Named(instrument);
        }

        public void Dispose() => _listener.Dispose();

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var (key, tagValue) in tags)
            {
                copy[key] = tagValue;
            }

            _recorded.Enqueue(new Measurement(instrument.Name, value, copy));
        }
    }
}
