namespace ReplayProxy.Testing;

/// <summary>One fake Amplitude and one proxy of <typeparamref name="TKind"/> in front of it, shared by a test class;
/// a subclass names the settings the class needs.</summary>
public class ProxyFixture<TKind> : IAsyncLifetime
    where TKind : IProxyKind
{
    public FakeAmplitude Upstream { get; private set; } = null!;

    public IProxyUnderTest Proxy { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    /// <summary>The fake with what earlier tests of the class sent it forgotten.</summary>
    public FakeAmplitude Cleared()
    {
        Upstream.Clear();
        return Upstream;
    }

    /// <summary>Settings beyond the upstreams, keyed relative to the ReplayProxy section.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    public virtual async Task InitializeAsync()
    {
        Upstream = await FakeAmplitude.StartAsync();
        Proxy = await TKind.StartAsync(ProxyUpstreams.All(Upstream.BaseAddress), Settings);
        Client = Proxy.CreateClient();
    }

    /// <summary>Ends with a check of the proxy's own log lines, where it runs in this process: whatever secret the
    /// class's tests sent through it (<see cref="FakeAmplitude.SecretsSeen"/>) must appear in none of them.</summary>
    public virtual async Task DisposeAsync()
    {
        Client.Dispose();
        await Proxy.DisposeAsync();
        var leaks = Proxy.Logs is { } logs ? LogSecrets.Find(logs, Upstream.SecretsSeen) : [];
        await Upstream.DisposeAsync();
        if (leaks.Count > 0)
        {
            throw new InvalidOperationException("The proxy logged secrets it forwarded: " + string.Join(" | ", leaks));
        }
    }
}
