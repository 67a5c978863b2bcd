using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ReplayProxy.Spool;
using ReplayProxy.Tests.ConfigFallback;

namespace ReplayProxy.Tests.Spool;

/// <summary>One delivery pass over a real file store in front of the fake Amplitude: what is deleted, kept or dropped,
/// and the counters and log lines that say so.</summary>
public sealed class SpoolDeliveryTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Directory.CreateTempSubdirectory("spool-delivery-").FullName, "spool");
    private readonly ManualClock _clock = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly MeterListener _listener = new();
    private readonly List<(string Name, long Value, string? Reason)> _measurements = [];
    private OutageAmplitude _amplitude = null!;
    private ServiceProvider _services = null!;
    private OutageSpool _spool = null!;
    private SpoolDelivery _delivery = null!;

    public async Task InitializeAsync()
    {
        _amplitude = await OutageAmplitude.StartAsync();
        var upstream = _amplitude.BaseAddress.ToString();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReplayProxy:Upstreams:Replay"] = upstream,
            ["ReplayProxy:Upstreams:Config"] = upstream,
            ["ReplayProxy:Upstreams:Analytics"] = upstream,
            ["ReplayProxy:UpstreamTimeoutSeconds"] = "5",
            ["ReplayProxy:Spool:Directory"] = _directory,
            ["ReplayProxy:Spool:MaxAgeSeconds"] = "3600",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddLogging(logging => logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        services.AddReplayProxy(configuration);
        _services = services.BuildServiceProvider();
        _spool = _services.GetRequiredService<OutageSpool>();
        _delivery = _services.GetServices<IHostedService>().OfType<SpoolDelivery>().Single();
        await _spool.Store!.OpenAsync(CancellationToken.None);

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ReplayProxyTelemetry.MeterName && instrument.Name.StartsWith("replay_proxy.spool.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "replay_proxy.spool.reason")
                {
                    reason = tag.Value as string;
                }
            }

            lock (_measurements)
            {
                _measurements.Add((instrument.Name, value, reason));
            }
        });
        _listener.Start();
    }

    [Fact]
    public async Task A_2xx_deletes_the_item_and_counts_it_delivered()
    {
        await AddAsync([1, 2, 3]);

        Assert.False(await PassAsync());

        Assert.Single(_amplitude.Accepted);
        Assert.Equal(0, _spool.Store!.Stats.Depth);
        Assert.Contains(_measurements, m => m.Name == "replay_proxy.spool.delivered");
    }

    [Fact]
    public async Task A_5xx_keeps_the_item_and_stops_the_pass_for_a_retry()
    {
        _amplitude.Mode = OutageMode.ServiceUnavailable;
        await AddAsync([1]);
        await AddAsync([2]);

        Assert.True(await PassAsync());

        Assert.Equal(2, _spool.Store!.Stats.Depth);
        // Oldest first, and nothing after the first failure.
        Assert.Single(_amplitude.Fake.Received);
        Assert.Equal([1], _amplitude.Fake.Received.Single().Body);
    }

    [Theory]
    [InlineData(400, true)]
    [InlineData(413, true)]
    [InlineData(408, false)]
    [InlineData(429, false)]
    public async Task A_4xx_drops_the_item_with_a_log_line_and_a_counter_except_408_and_429(int status, bool dropped)
    {
        _amplitude.StatusWhileUp = status;
        await AddAsync([9, 9]);

        Assert.Equal(!dropped, await PassAsync());

        Assert.Equal(dropped ? 0 : 1, _spool.Store!.Stats.Depth);
        Assert.Equal(dropped, _measurements.Any(m => m.Name == "replay_proxy.spool.dropped" && m.Reason == "rejected"));
        Assert.Equal(dropped, _logs.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains($"refused a kept track upload with {status}", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_item_older_than_MaxAgeSeconds_is_dropped_not_delivered()
    {
        await AddAsync([7]);
        _clock.Advance(TimeSpan.FromHours(2));

        Assert.False(await PassAsync());

        Assert.Empty(_amplitude.Fake.Received);
        Assert.Equal(0, _spool.Store!.Stats.Depth);
        Assert.Contains(_measurements, m => m.Name == "replay_proxy.spool.dropped" && m.Reason == "expired");
    }

    [Fact]
    public async Task A_corrupt_item_is_dropped_and_the_rest_delivered()
    {
        await AddAsync([1]);
        var file = Directory.GetFiles(_directory, "*.spool").Single();
        await File.WriteAllBytesAsync(file, [0, 1, 2]);
        await AddAsync([2]);

        Assert.False(await PassAsync());

        Assert.Equal([2], Assert.Single(_amplitude.Accepted).Body);
        Assert.Contains(_measurements, m => m.Name == "replay_proxy.spool.dropped" && m.Reason == "unreadable");
    }

    [Fact]
    public async Task Past_MaxBytes_the_file_store_refuses_and_writes_nothing()
    {
        await using var small = new FileSpoolStore(Path.Combine(_directory, "small"), maxBytes: 300);
        await small.OpenAsync(CancellationToken.None);

        Assert.True(await small.TryAddAsync(Request(), new MemoryStream(new byte[10]), 10, CancellationToken.None));
        Assert.False(await small.TryAddAsync(Request(), new MemoryStream(new byte[200]), 200, CancellationToken.None));

        Assert.Single(Directory.GetFiles(Path.Combine(_directory, "small"), "*.spool"));
        Assert.Empty(Directory.GetFiles(Path.Combine(_directory, "small"), ".tmp-*"));
    }

    private Task<bool> PassAsync() => _delivery.DeliverPassAsync(_spool.Store!, CancellationToken.None);

    private async Task AddAsync(byte[] body)
    {
        Assert.True(await _spool.Store!.TryAddAsync(Request(), new MemoryStream(body), body.Length, CancellationToken.None));
        // Distinct creation times, so the order is the order of adding.
        _clock.Advance(TimeSpan.FromMilliseconds(1));
    }

    private SpooledRequest Request() => new(_clock.GetUtcNow(), "track", UpstreamKind.Replay, "US", "/sessions/v2/track", "?device_id=d", [new("Content-Type", "application/json")]);

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _services.DisposeAsync();
        await _amplitude.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
    }
}
