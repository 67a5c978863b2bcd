
namespace ReplayProxy.Tests.Hostile;

/// <summary>
/// A proxy whose three upstreams are one "good" fake, next to an "evil" fake that nothing should ever reach: hostile
/// requests name the evil fake's address (and <c>evil.example</c>) wherever a host could hide.
/// </summary>
public sealed class HostileFixture : IAsyncLifetime
{
    public FakeAmplitude Good { get; private set; } = null!;
    public FakeAmplitude Evil { get; private set; } = null!;
    public ProxyHost Proxy { get; private set; } = null!;

    /// <summary><c>127.0.0.1:port</c> of the evil fake.</summary>
    public string EvilAuthority => Evil.BaseAddress.Authority;

    public string GoodAuthority => Good.BaseAddress.Authority;

    public string ProxyAuthority => Proxy.BaseAddress.Authority;

    public async Task InitializeAsync()
    {
        Good = await FakeAmplitude.StartAsync();
        Evil = await FakeAmplitude.StartAsync();
        Proxy = await ProxyHost.StartAsync(Good);
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Evil.DisposeAsync();
        await Good.DisposeAsync();
    }

    /// <summary>The invariants every hostile test ends with: the evil host was never contacted (not even a TCP
    /// connection), every upstream request went to the configured authority on a route's path, and the proxy logged
    /// no error.</summary>
    public void AssertOnlyConfiguredUpstreamsWereContacted()
    {
        Assert.Equal(0, Evil.TotalConnections);
        Assert.Empty(Evil.Received);
        foreach (var request in Good.Received)
        {
            Assert.Equal(GoodAuthority, request.Host);
            Assert.True(
                request.Path == "/sessions/v2/track" || request.Path == "/2/httpapi" || request.Path == "/batch" || request.Path == "/"
                || request.Path == "/config" || request.Path.StartsWith("/config/", StringComparison.Ordinal),
                $"unexpected upstream path {request.Path}");
        }

        Assert.DoesNotContain(Proxy.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }
}
