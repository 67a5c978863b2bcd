using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Tests.Infrastructure;

/// <summary>The core on a real Kestrel at 127.0.0.1:0, configured like the standalone host, with logs captured.</summary>
public sealed class ProxyHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProxyHost(WebApplication app, CapturingLoggerProvider logs)
    {
        _app = app;
        Logs = logs;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public CapturingLoggerProvider Logs { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the proxy with every upstream pointing at <paramref name="upstream"/>, plus any extra settings
    /// (keys relative to the ReplayProxy section, e.g. "AllowedOrigins").</summary>
    public static Task<ProxyHost> StartAsync(FakeAmplitude upstream, IDictionary<string, string?>? settings = null, Action<KestrelServerOptions>? kestrel = null, Action<IServiceCollection>? services = null) =>
        StartAsync(upstream.BaseAddress, upstream.BaseAddress, upstream.BaseAddress, settings, kestrel, services: services);

    /// <param name="kestrel">Optional changes to Kestrel's options (limits); the defaults are what the standalone host runs with.</param>
    /// <param name="traceEverything">Every category at Trace, overriding the log levels of the host's appsettings.json.</param>
    /// <param name="services">Optional registrations made before the proxy's own (a test clock, a test certificate trust).</param>
    public static async Task<ProxyHost> StartAsync(Uri replay, Uri config, Uri analytics, IDictionary<string, string?>? settings = null, Action<KestrelServerOptions>? kestrel = null, bool traceEverything = false, Action<IServiceCollection>? services = null)
    {
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
        app.MapFallback("{**path}", ReplayProxyHandler.NotFoundAsync);
        return new ProxyHost(app, logs) { BaseAddress = await Loopback.StartAsync(app) };
    }

    /// <summary>A client that sends exactly what it is told: no cookies container, no decompression, no proxy.</summary>
    public HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        UseCookies = false,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = BaseAddress,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message, string? Exception);

/// <summary>Collects every log line from every category, for assertions on what is (not) written.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();

    public IReadOnlyCollection<CapturedLog> Entries => _entries.ToArray();

    /// <summary>Forgets what was captured (long runs measure memory without the captured lines).</summary>
    public void Clear() => _entries.Clear();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<CapturedLog> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : string.Empty;
            entries.Enqueue(new CapturedLog(category, logLevel, eventId, formatter(state, exception) + " " + structured, exception?.ToString()));
        }
    }
}
