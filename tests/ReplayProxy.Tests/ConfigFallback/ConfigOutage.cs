using System.Net;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Tests.ConfigFallback;

/// <summary>
/// A fake Amplitude that can fail on demand (hang, answer a status, or be gone) and a proxy in front of it with a
/// manual clock, on real loopback sockets.
/// </summary>
public sealed class ConfigOutage : IAsyncDisposable
{
    public const string Config = """{"configs":{"sessionReplay":{"sr_sampling_config":{"sample_rate":1,"capture_enabled":true}}}}""";

    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _upstreamDisposed;
    private int _hungRequests;

    private ConfigOutage(FakeAmplitude upstream, ProxyHost proxy, ManualClock clock)
    {
        Upstream = upstream;
        Proxy = proxy;
        Clock = clock;
        Client = proxy.CreateClient();
    }

    public FakeAmplitude Upstream { get; }
    public ProxyHost Proxy { get; }
    public ManualClock Clock { get; }
    public HttpClient Client { get; }

    /// <summary>The body the fake answers config with while it is healthy.</summary>
    public string Body { get; set; } = Config;

    public static async Task<ConfigOutage> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var clock = new ManualClock();
        var upstream = await FakeAmplitude.StartAsync();
        // The deadline decides fresh or remembered for a healthy answer too: it must be far above what a loopback answer
        // can take on a loaded machine (it was 300 ms), while the tests that hang the fake wait it out.
        var values = new Dictionary<string, string?> { ["ConfigDeadlineMilliseconds"] = "2000", ["UpstreamTimeoutSeconds"] = "5" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var proxy = await ProxyHost.StartAsync(upstream, values, services: s => s.AddSingleton<TimeProvider>(clock));
        var outage = new ConfigOutage(upstream, proxy, clock);
        outage.Healthy();
        return outage;
    }

    public void Healthy()
    {
        Upstream.BeforeBody = null;
        Upstream.Respond = async (context, _) =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Body);
        };
    }

    public void AnswerStatus(int status, string body = """{"error":"unavailable"}""")
    {
        Upstream.BeforeBody = null;
        Upstream.Respond = async (context, _) =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        };
    }

    /// <summary>Accepts config requests and answers none until <see cref="Release"/> (then as <see cref="Healthy"/>).</summary>
    public void Hang()
    {
        Healthy();
        Upstream.BeforeBody = async context =>
        {
            Interlocked.Increment(ref _hungRequests);
            try
            {
                await _release.Task.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return true;
            }

            return false;
        };
    }

    /// <summary>Config requests that reached the fake while it hangs.</summary>
    public int HungRequests => Volatile.Read(ref _hungRequests);

    public void Release() => _release.TrySetResult();

    /// <summary>Amplitude gone: connections to its port are refused.</summary>
    public async Task UpstreamGoneAsync()
    {
        _upstreamDisposed = true;
        await Upstream.DisposeAsync();
    }

    public Task<HttpResponseMessage> GetConfigAsync(string key = "abc123", string query = "?config_group=browser", Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/config/{key}{query}");
        configure?.Invoke(request);
        return Client.SendAsync(request);
    }

    public static bool IsStale(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Replay-Proxy-Stale", out var values) && values.Single() == "true";

    public async ValueTask DisposeAsync()
    {
        Release();
        Client.Dispose();
        await Proxy.DisposeAsync();
        if (!_upstreamDisposed)
        {
            await Upstream.DisposeAsync();
        }
    }
}

internal static class ConfigResponseAssert
{
    public static async Task IsFreshAsync(HttpResponseMessage response, string body)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(ConfigOutage.IsStale(response), "a fresh answer was marked stale");
        Assert.Null(response.Headers.Age);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    public static async Task IsStaleAsync(HttpResponseMessage response, string body, TimeSpan? age = null)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(ConfigOutage.IsStale(response), "expected the remembered answer, marked stale");
        Assert.NotNull(response.Headers.Age);
        if (age is { } expected)
        {
            Assert.Equal(expected, response.Headers.Age);
        }

        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? string.Empty, StringComparison.Ordinal);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }
}
