using Microsoft.AspNetCore.Http.Features;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Functions.Tests;

/// <summary>
/// Drives every route through the core on a real Kestrel (as the worker does) against a fake Amplitude, with the API
/// key in a Bearer token, in the beacon's <c>api_key</c> query parameter, in the <c>/config/&lt;key&gt;</c> path and in
/// the analytics body, and checks that no log line (any level), no activity (any source, started or stopped) and no
/// metric tag (any meter) holds the key or the query. Failures are logged once, at Warning, without secrets.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests : IAsyncLifetime
{
    private const string Key = "k3ySecretAbc0123456789xyz";
    private const string QueryMarker = "qmark7421";
    private const string AllowedOrigin = "https://site.example";
    private const string DelayHeader = "X-Test-Delay-Ms";

    private readonly TelemetryCapture _telemetry = new();
    private WebApplication _upstream = null!;
    private Uri _upstreamAddress = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _upstream = builder.Build();
        _upstream.Run(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            if (int.TryParse(context.Request.Headers[DelayHeader], out var delay))
            {
                await Task.Delay(delay, context.RequestAborted);
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"code":200,"configs":{}}""", context.RequestAborted);
        });
        await _upstream.StartAsync();
        _upstreamAddress = Loopback.AddressOf(_upstream);
    }

    public async Task DisposeAsync()
    {
        _telemetry.Dispose();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Every_route_keeps_the_key_and_the_query_out_of_logs_traces_and_metrics()
    {
        await using var proxy = await ProxyApp.StartAsync(_upstreamAddress, new()
        {
            ["AllowedOrigins"] = AllowedOrigin,
            ["AllowedApiKeys"] = Key,
        });
        using var client = proxy.CreateClient();

        var query = $"device_id=dev-{QueryMarker}&session_id=1700000000000&type=replay";
        await Expect(HttpStatusCode.OK, client, Track($"/sessions/v2/track?{query}", bearer: true));
        await Expect(HttpStatusCode.OK, client, Track($"/sessions/v2/track?{query}&api_key={Key}", bearer: false));
        await Expect(HttpStatusCode.NoContent, client, Preflight($"/sessions/v2/track?{query}&api_key={Key}"));
        await Expect(HttpStatusCode.OK, client, Get(HttpMethod.Get, $"/config/{Key}?config_group=browser&{QueryMarker}=1"));
        await Expect(HttpStatusCode.OK, client, Get(HttpMethod.Head, $"/config/{Key}?config_group=browser&{QueryMarker}=1"));
        await Expect(HttpStatusCode.OK, client, Get(HttpMethod.Get, $"/config?api_key={Key}&config_keys={QueryMarker}"));
        await Expect(HttpStatusCode.NoContent, client, Preflight($"/config/{Key}?{QueryMarker}=1"));
        await Expect(HttpStatusCode.OK, client, Analytics($"/2/httpapi?{QueryMarker}=1"));
        await Expect(HttpStatusCode.OK, client, Analytics($"/batch?{QueryMarker}=1"));
        await Expect(HttpStatusCode.OK, client, Form($"/?{QueryMarker}=1"));
        await Expect(HttpStatusCode.NoContent, client, Preflight($"/2/httpapi?api_key={Key}"));
        await Expect(HttpStatusCode.OK, client, Get(HttpMethod.Get, $"/healthz?api_key={Key}&{QueryMarker}=1"));
        await Expect(HttpStatusCode.OK, client, Get(HttpMethod.Get, $"/healthz/upstreams?api_key={Key}&{QueryMarker}=1"));
        await Expect(HttpStatusCode.Forbidden, client, Get(HttpMethod.Get, $"/config/wrong{QueryMarker}?api_key={Key}"));

        AssertNoSecrets(proxy);
        Assert.Contains(ReplayProxyTelemetry.ActivitySourceName, _telemetry.ActivitySources);
        Assert.Contains(_telemetry.Measurements, m => m.StartsWith(ReplayProxyTelemetry.MeterName + " ", StringComparison.Ordinal));
        foreach (var route in ReplayRouteTable.Default.All.Where(r => r.Region is null))
        {
            Assert.Contains(_telemetry.Measurements, m => m.Contains($"replay_proxy.route={route.Name}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Failures_are_logged_once_at_warning_without_secrets()
    {
        await using var proxy = await ProxyApp.StartAsync(_upstreamAddress, new()
        {
            ["AllowedOrigins"] = AllowedOrigin,
            ["UpstreamTimeoutSeconds"] = "1",
            ["MaxRequestBodyBytes"] = "4096",
        });
        await using var dead = await ProxyApp.StartAsync(Loopback.ClosedAddress(), new() { ["AllowedOrigins"] = AllowedOrigin });
        using var client = proxy.CreateClient();
        using var deadClient = dead.CreateClient();
        var path = $"/sessions/v2/track?device_id={QueryMarker}&api_key={Key}";

        await ExpectOneWarning(dead, HttpStatusCode.BadGateway, deadClient, Track(path, bearer: true), "connection_failed");

        var slow = Track(path, bearer: true);
        slow.Headers.Add(DelayHeader, "3000");
        await ExpectOneWarning(proxy, HttpStatusCode.GatewayTimeout, client, slow, "timeout");

        var large = Track(path, bearer: true);
        large.Content = new ByteArrayContent(new byte[8192]);
        await ExpectOneWarning(proxy, HttpStatusCode.RequestEntityTooLarge, client, large, "request_too_large");

        var foreign = Track(path, bearer: true);
        foreign.Headers.Remove("Origin");
        foreign.Headers.Add("Origin", "https://evil.example");
        await ExpectOneWarning(proxy, HttpStatusCode.Forbidden, client, foreign, "origin_refused");

        AssertNoSecrets(proxy, dead);
    }

    private static async Task ExpectOneWarning(ProxyApp proxy, HttpStatusCode status, HttpClient client, HttpRequestMessage request, string reason)
    {
        var before = proxy.Logs.Entries.Count(e => e.Level >= LogLevel.Warning);
        await Expect(status, client, request);
        // The handler logs after it has answered; give it a moment to finish.
        for (var i = 0; i < 50 && proxy.Logs.Entries.Count(e => e.Level >= LogLevel.Warning) == before; i++)
        {
            await Task.Delay(20);
        }

        await Task.Delay(100);
        var warnings = proxy.Logs.Entries.Where(e => e.Level >= LogLevel.Warning).Skip(before).ToList();
        var warning = Assert.Single(warnings);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(reason, warning.Message, StringComparison.Ordinal);
        Assert.Contains(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), warning.Message, StringComparison.Ordinal);
    }

    private void AssertNoSecrets(params ProxyApp[] proxies)
    {
        _telemetry.RecordObservable();
        var forbidden = new[] { Key, QueryMarker, "api_key=", "device_id", "config_group", "Bearer" };
        var haystacks = new List<(string Kind, string Text)>();
        foreach (var proxy in proxies)
        {
            haystacks.AddRange(proxy.Logs.Entries.Select(e => ($"log {e.Level} {e.Category}", e.Message + "\n" + e.State)));
        }

        haystacks.AddRange(_telemetry.Activities.Select(a => ("activity", a)));
        haystacks.AddRange(_telemetry.Measurements.Select(m => ("metric", m)));
        Assert.NotEmpty(haystacks);

        var leaks = haystacks
            .Where(h => forbidden.Any(f => h.Text.Contains(f, StringComparison.OrdinalIgnoreCase)))
            .Select(h => $"{h.Kind}: {h.Text}")
            .Distinct()
            .ToList();
        Assert.True(leaks.Count == 0, "Secrets or query leaked:\n" + string.Join("\n", leaks));
    }

    private static async Task Expect(HttpStatusCode status, HttpClient client, HttpRequestMessage request)
    {
        using (request)
        using (var response = await client.SendAsync(request))
        {
            await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(status, response.StatusCode);
        }
    }

    private static HttpRequestMessage Track(string path, bool bearer)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent("""{"version":1,"events":["{}"]}"""u8.ToArray()),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("Origin", AllowedOrigin);
        request.Headers.Add("Cookie", "session=site-cookie");
        if (bearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        }

        return request;
    }

    private static HttpRequestMessage Form(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.ASCII.GetBytes($"v=3&client={Key}&e=%5B%5D&upload_time=1")),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        return request;
    }

    private static HttpRequestMessage Analytics(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"api_key":"{{Key}}","events":[{"event_type":"x"}]}""")),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("Origin", AllowedOrigin);
        return request;
    }

    private static HttpRequestMessage Preflight(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", AllowedOrigin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization, content-type, content-encoding");
        return request;
    }

    private static HttpRequestMessage Get(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Accept", "*/*");
        return request;
    }
}

/// <summary>The activity and meter listeners are process-wide: these tests do not run beside each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}

/// <summary>The core on a real Kestrel at 127.0.0.1:0 with every log captured at every level.</summary>
internal sealed class ProxyApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProxyApp(WebApplication app, CapturingLoggerProvider logs, Uri address)
    {
        _app = app;
        Logs = logs;
        BaseAddress = address;
    }

    public CapturingLoggerProvider Logs { get; }

    public Uri BaseAddress { get; }

    public static async Task<ProxyApp> StartAsync(Uri upstream, Dictionary<string, string?> settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["ReplayProxy:Upstreams:Replay"] = upstream.ToString(),
            ["ReplayProxy:Upstreams:Config"] = upstream.ToString(),
            ["ReplayProxy:Upstreams:Analytics"] = upstream.ToString(),
        };
        foreach (var (key, value) in settings)
        {
            values["ReplayProxy:" + key] = value;
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(values);
        var logs = new CapturingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // AddReplayProxy alone must keep keys and queries out of the framework's logs (it applies the log rules).
        builder.Services.AddReplayProxy(builder.Configuration);
        var app = builder.Build();
        app.MapReplayProxy();
        await app.StartAsync();
        return new ProxyApp(app, logs, Loopback.AddressOf(app));
    }

    /// <summary>The browser's side: sends exactly what it is told and traces nothing itself.</summary>
    public HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        UseCookies = false,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ActivityHeadersPropagator = null,
    })
    {
        BaseAddress = BaseAddress,
        Timeout = TimeSpan.FromSeconds(30),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
