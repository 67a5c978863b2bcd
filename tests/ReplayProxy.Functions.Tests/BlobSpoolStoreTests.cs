using System.Net;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using ReplayProxy.Functions.Spool;
using ReplayProxy.Spool;

namespace ReplayProxy.Functions.Tests;

/// <summary>The Blob store on Azurite (a real Blob endpoint): what it keeps, its bound, and several instances'
/// delivery loops sharing one container without delivering an item twice.</summary>
public sealed class BlobSpoolStoreTests
{
    [Fact]
    public async Task Two_delivery_loops_racing_over_one_container_deliver_every_item_exactly_once()
    {
        await using var amplitude = await OutageAmplitude.StartAsync();
        // Slow enough that both loops list the same items and reach for the same leases.
        amplitude.Fake.BeforeBody = async _ =>
        {
            await Task.Delay(30);
            return false;
        };
        var container = Azurite.NewContainerName();
        await using var first = await InstanceAsync(amplitude.BaseAddress, container);
        await using var second = await InstanceAsync(amplitude.BaseAddress, container);
        var bodies = Enumerable.Range(0, 24).Select(i => RandomNumberGenerator.GetBytes(100 + i)).ToList();
        foreach (var body in bodies)
        {
            Assert.True(await first.Store.TryAddAsync(Request(), new MemoryStream(body), body.Length, CancellationToken.None));
        }

        // Both loops pass over the container at once, again until it is empty.
        for (var pass = 0; pass < 5 && (await first.Store.ListAsync(CancellationToken.None)).Count > 0; pass++)
        {
            await Task.WhenAll(
                first.Delivery.DeliverPassAsync(first.Store, CancellationToken.None),
                second.Delivery.DeliverPassAsync(second.Store, CancellationToken.None));
        }

        Assert.Empty(await first.Store.ListAsync(CancellationToken.None));
        var delivered = amplitude.Accepted.Select(r => r.BodySha256).ToList();
        Assert.Equal(bodies.Count, delivered.Count);
        Assert.Equal(bodies.Select(b => Convert.ToHexString(SHA256.HashData(b))).Order(), delivered.Order());
    }

    [Fact]
    public async Task A_leased_item_cannot_be_claimed_by_another_instance_until_released()
    {
        var container = Azurite.NewContainerName();
        await using var first = await InstanceAsync(Loopback.ClosedAddress(), container);
        await using var second = await InstanceAsync(Loopback.ClosedAddress(), container);
        Assert.True(await first.Store.TryAddAsync(Request(), new MemoryStream([1, 2, 3]), 3, CancellationToken.None));
        var entry = Assert.Single(await first.Store.ListAsync(CancellationToken.None));

        var claim = await first.Store.TryClaimAsync(entry, CancellationToken.None);
        Assert.NotNull(claim);
        Assert.Null(await second.Store.TryClaimAsync(entry, CancellationToken.None));
        var (request, body, length) = await claim.ReadAsync(CancellationToken.None);
        Assert.Equal(3, length);
        Assert.Equal("/sessions/v2/track", request.Path);
        await claim.DisposeAsync();

        await using var again = await second.Store.TryClaimAsync(entry, CancellationToken.None);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task An_item_past_MaxBytes_is_refused_and_not_written()
    {
        var container = Azurite.NewContainerName();
        await using var instance = await InstanceAsync(Loopback.ClosedAddress(), container, maxBytes: 600);

        Assert.True(await instance.Store.TryAddAsync(Request(), new MemoryStream(new byte[100]), 100, CancellationToken.None));
        Assert.False(await instance.Store.TryAddAsync(Request(), new MemoryStream(new byte[400]), 400, CancellationToken.None));

        Assert.Single(await instance.Store.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Kept_items_are_private_blobs_holding_the_headers_and_the_exact_body()
    {
        var azurite = await Azurite.SharedAsync();
        var container = Azurite.NewContainerName();
        await using var instance = await InstanceAsync(Loopback.ClosedAddress(), container);
        var body = RandomNumberGenerator.GetBytes(2048);

        Assert.True(await instance.Store.TryAddAsync(Request(), new MemoryStream(body), body.Length, CancellationToken.None));

        var client = new BlobContainerClient(azurite.ConnectionString, container);
        Assert.Equal(Azure.Storage.Blobs.Models.PublicAccessType.None, (await client.GetAccessPolicyAsync()).Value.BlobPublicAccess);
        var entry = Assert.Single(await instance.Store.ListAsync(CancellationToken.None));
        await using var claim = await instance.Store.TryClaimAsync(entry, CancellationToken.None);
        var (request, stream, length) = await claim!.ReadAsync(CancellationToken.None);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(body, copy.ToArray());
        Assert.Equal(body.Length, length);
        Assert.Contains(request.Headers, h => h.Key == "Authorization" && h.Value == "Bearer key");
        Assert.Equal("?device_id=d&session_id=1", request.Query);
    }

    private static SpooledRequest Request() => new(
        DateTimeOffset.UtcNow,
        "track",
        UpstreamKind.Replay,
        "US",
        "/sessions/v2/track",
        "?device_id=d&session_id=1",
        [new("Authorization", "Bearer key"), new("Content-Type", "application/json"), new("X-Forwarded-For", "203.0.113.7")]);

    private static async Task<Instance> InstanceAsync(Uri upstream, string container, long maxBytes = SpoolOptions.DefaultMaxBytes)
    {
        var azurite = await Azurite.SharedAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReplayProxy:Upstreams:Replay"] = upstream.ToString(),
            ["ReplayProxy:Upstreams:Config"] = upstream.ToString(),
            ["ReplayProxy:Upstreams:Analytics"] = upstream.ToString(),
            ["ReplayProxy:UpstreamTimeoutSeconds"] = "5",
            ["ReplayProxy:Spool:BlobConnectionString"] = azurite.ConnectionString,
            ["ReplayProxy:Spool:BlobContainerName"] = container,
            ["ReplayProxy:Spool:MaxBytes"] = maxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IBlobSpoolStoreFactory, BlobSpoolStoreFactory>();
        services.AddLogging();
        services.AddReplayProxy(configuration);
        var provider = services.BuildServiceProvider();
        var spool = provider.GetRequiredService<OutageSpool>();
        var delivery = provider.GetServices<IHostedService>().OfType<SpoolDelivery>().Single();
        await spool.Store!.OpenAsync(CancellationToken.None);
        return new Instance(provider, spool.Store, delivery);
    }

    private sealed record Instance(ServiceProvider Provider, ISpoolStore Store, SpoolDelivery Delivery) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Provider.DisposeAsync();
    }
}
