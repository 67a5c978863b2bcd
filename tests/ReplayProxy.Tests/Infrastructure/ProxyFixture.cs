namespace ReplayProxy.Tests.Infrastructure;

/// <summary>One fake Amplitude and one proxy with default settings, shared by a test class.</summary>
public sealed class ProxyFixture : IAsyncLifetime
{
    public FakeAmplitude Upstream { get; private set; } = null!;
    public ProxyHost Proxy { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await FakeAmplitude.StartAsync();
        Proxy = await ProxyHost.StartAsync(Upstream);
        Client = Proxy.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Proxy.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
