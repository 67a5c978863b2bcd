using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Testing;

/// <summary>The core on a real Kestrel at 127.0.0.1:0, configured like the standalone host, with logs captured.</summary>
public sealed class ProxyHost : IProxyUnderTest
{
    private readonly WebApplication _app;

    private ProxyHost(WebApplication app, CapturingLoggerProvider logs)
    {
        _app = app;
        Logs = logs;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public CapturingLoggerProvider Logs { get; }

    CapturingLoggerProvider? IProxyUnderTest.Logs => Logs;

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the proxy with every upstream pointing at <paramref name="upstream"/>, plus any extra settings
    /// (keys relative to the ReplayProxy section, e.g. "AllowedOrigins").</summary>
    public static Task<ProxyHost> StartAsync(FakeAmplitude upstream, IReadOnlyDictionary<string, string?>? settings = null, Action<KestrelServerOptions>? kestrel = null, Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        return StartAsync(upstream.BaseAddress, upstream.BaseAddress, upstream.BaseAddress, settings, kestrel, services: services);
    }

    /// <param name="kestrel">Optional changes to Kestrel's options (limits); the defaults are what the standalone host runs with.</param>
    /// <param name="traceEverything">Every category at Trace, overriding the log levels of the host's appsettings.json.</param>
    /// <param name="services">Optional registrations made before the proxy's own (a test clock, a test certificate trust).</param>
    public static async Task<ProxyHost> StartAsync(Uri replay, Uri config, Uri analytics, IReadOnlyDictionary<string, string?>? settings = null, Action<KestrelServerOptions>? kestrel = null, bool traceEverything = false, Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(replay);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(analytics);
        var values = new Dictionary<string, string?>
        {
            ["ReplayProxy:Upstreams:Replay"] = replay.ToString(),
            ["ReplayProxy:Upstreams:Config"] = config.ToString(),
            ["ReplayProxy:Upstreams:Analytics"] = analytics.ToString(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values["ReplayProxy:" + key] = value;
        }

        if (traceEverything)
        {
            foreach (var category in new[] { "Default", "Microsoft", "Microsoft.AspNetCore", "System", "Yarp" })
            {
                values["Logging:LogLevel:" + category] = "Trace";
            }
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(values);
        var logs = new CapturingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            kestrel?.Invoke(k);
        });
        services?.Invoke(builder.Services);
        builder.Services.AddReplayProxy(builder.Configuration);
        var app = builder.Build();
        app.MapReplayProxy();
        return new ProxyHost(app, logs) { BaseAddress = await Loopback.StartAsync(app) };
    }

    public HttpClient CreateClient() => ProxyClient.Create(BaseAddress);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
