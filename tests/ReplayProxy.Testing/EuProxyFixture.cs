namespace ReplayProxy.Testing;

/// <summary>A <see cref="ProxyFixture{TKind}"/> with a second fake Amplitude, <see cref="Eu"/>, for the EU hosts: a
/// subclass points <c>Upstreams:Eu*</c> at it in its settings.</summary>
public class EuProxyFixture<TKind> : ProxyFixture<TKind>
    where TKind : IProxyKind
{
    public FakeAmplitude Eu { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Eu = await FakeAmplitude.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Eu.DisposeAsync();
    }
}
