namespace ReplayProxy.Functions.Tests;

/// <summary>These tests start processes (the test host and its worker) and share two cores: one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkerPathCollection
{
    public const string Name = "Worker path";
}

/// <summary>Environment settings for the test host.</summary>
internal static class WorkerPath
{
    public const string AllowedOrigin = "https://app.example.com";

    /// <summary>Every upstream at the fake, plus the given settings (names as environment variables).</summary>
    public static Dictionary<string, string?> Settings(Uri upstream, params (string Name, string Value)[] more)
    {
        var settings = FunctionsProxy.Environment(ProxyUpstreams.All(upstream), null);
        settings["ReplayProxy__AllowedOrigins"] = AllowedOrigin;
        foreach (var (name, value) in more)
        {
            settings[name] = value;
        }

        return settings;
    }

    /// <summary>The one request the fake received carrying this test's marker header.</summary>
    public static ReceivedRequest Received(FakeAmplitude upstream, string marker) =>
        Assert.Single(upstream.Received, r => r.Header("X-Test-Id") == marker);
}

/// <summary>One test host with its worker, in front of one fake Amplitude, shared by a test class.</summary>
public sealed class WorkerHostFixture : IAsyncLifetime
{
    public FakeAmplitude Upstream { get; private set; } = null!;

    public FunctionsHostProcess Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await FakeAmplitude.StartAsync();
        Host = await FunctionsHostProcess.StartAsync(WorkerPath.Settings(Upstream.BaseAddress));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
