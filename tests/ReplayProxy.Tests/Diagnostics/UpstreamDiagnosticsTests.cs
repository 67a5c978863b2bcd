using System.Net;
using System.Net.Security;
using System.Text.Json;
using ReplayProxy.Diagnostics;
using ReplayProxy.Tests.ConfigFallback;
using ReplayProxy.Tests.Integration;

namespace ReplayProxy.Tests.Diagnostics;

/// <summary><c>GET /healthz/upstreams</c> (issue 13 part 3) against real upstreams on loopback.</summary>
public sealed class UpstreamDiagnosticsTests
{
    private const string Path = "/healthz/upstreams";

    [Fact]
    public async Task Reports_each_step_for_the_one_host_in_use_and_a_settings_summary_without_secrets()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?>
        {
            ["AllowedOrigins"] = "https://www.example.com,https://shop.example.com",
            ["AllowedApiKeys"] = "secretkey42",
            ["UpstreamHeaders:X-Gateway-Token"] = "gateway-secret",
        });
        using var client = proxy.CreateClient();

        var response = await client.GetAsync(Path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? string.Empty, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("healthy", root.GetProperty("status").GetString());

        var host = Assert.Single(root.GetProperty("upstreams").EnumerateArray());
        Assert.Equal("127.0.0.1", host.GetProperty("host").GetString());
        Assert.Equal(upstream.BaseAddress.Port, host.GetProperty("port").GetInt32());
        Assert.Equal("http", host.GetProperty("scheme").GetString());
        Assert.Equal(["replay", "config", "analytics"], host.GetProperty("usedBy").EnumerateArray().Select(e => e.GetString()));
        Assert.True(host.GetProperty("reachable").GetBoolean());
        Assert.True(host.GetProperty("dns").GetProperty("ok").GetBoolean());
        Assert.Equal(1, host.GetProperty("dns").GetProperty("addresses").GetInt32());
        Assert.True(host.GetProperty("connect").GetProperty("ok").GetBoolean());
        Assert.True(host.GetProperty("connect").GetProperty("milliseconds").GetDouble() >= 0);
        Assert.False(host.TryGetProperty("tls", out _));
        Assert.Equal(200, host.GetProperty("http").GetProperty("status").GetInt32());

        // The one harmless request: GET of the base path, with the configured extra headers and nothing of a client.
        var probe = Assert.Single(upstream.Received);
        Assert.Equal("GET", probe.Method);
        Assert.Equal("/", probe.Path);
        Assert.Equal(string.Empty, probe.Query);
        Assert.Equal("gateway-secret", probe.Header("X-Gateway-Token"));

        var settings = root.GetProperty("settings");
        Assert.Equal("US", settings.GetProperty("region").GetString());
        Assert.Equal("127.0.0.1", settings.GetProperty("upstreamOverrides").GetProperty("config").GetString());
        Assert.Equal(2, settings.GetProperty("allowedOrigins").GetInt32());
        Assert.Equal(1, settings.GetProperty("allowedApiKeys").GetInt32());
        Assert.False(settings.GetProperty("anyApiKey").GetBoolean());
        Assert.False(settings.GetProperty("frontDoorCheck").GetBoolean());
        Assert.Equal(1, settings.GetProperty("extraUpstreamHeaders").GetInt32());
        Assert.False(settings.GetProperty("allowSdkDiagnostics").GetBoolean());
        var limits = settings.GetProperty("limits");
        Assert.Equal(30, limits.GetProperty("upstreamTimeoutSeconds").GetInt32());
        Assert.Equal(800, limits.GetProperty("configDeadlineMilliseconds").GetInt32());
        Assert.Equal(86400, limits.GetProperty("configStaleLimitSeconds").GetInt32());

        foreach (var secret in new[] { "secretkey42", "gateway-secret", "X-Gateway-Token", "example.com", upstream.BaseAddress.ToString() })
        {
            Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task An_unreachable_host_or_a_server_error_makes_it_503_and_says_which_host_and_step()
    {
        await using var replay = await FakeAmplitude.StartAsync();
        await using var analytics = await FakeAmplitude.StartAsync();
        analytics.Respond = (context, _) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        };
        var closedPort = await ClosedPortAsync();
        await using var proxy = await ProxyHost.StartAsync(replay.BaseAddress, new Uri($"http://127.0.0.1:{closedPort}"), analytics.BaseAddress);
        using var client = proxy.CreateClient();

        var response = await client.GetAsync(Path);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("unhealthy", json.RootElement.GetProperty("status").GetString());
        var hosts = json.RootElement.GetProperty("upstreams").EnumerateArray().ToDictionary(h => h.GetProperty("usedBy")[0].GetString()!);
        Assert.Equal(3, hosts.Count);
        Assert.True(hosts["replay"].GetProperty("reachable").GetBoolean());

        var config = hosts["config"];
        Assert.False(config.GetProperty("reachable").GetBoolean());
        Assert.True(config.GetProperty("dns").GetProperty("ok").GetBoolean());
        Assert.False(config.GetProperty("connect").GetProperty("ok").GetBoolean());
        Assert.Equal("ConnectionRefused", config.GetProperty("connect").GetProperty("error").GetString());
        Assert.Equal("ConnectionError", config.GetProperty("http").GetProperty("error").GetString());

        var failing = hosts["analytics"];
        Assert.False(failing.GetProperty("reachable").GetBoolean());
        Assert.True(failing.GetProperty("connect").GetProperty("ok").GetBoolean());
        Assert.Equal(503, failing.GetProperty("http").GetProperty("status").GetInt32());
    }

    /// <summary>Each step has its own deadline (<see cref="UpstreamProbe.StepTimeout"/>): a host that accepts the
    /// connection and then says nothing is reported as a timeout of the step it hangs in, and the call answers.</summary>
    [Fact]
    public async Task A_host_that_hangs_is_reported_as_a_timeout_of_the_step_it_hangs_in()
    {
        await using var replay = await FakeAmplitude.StartAsync();
        replay.BeforeBody = async context =>
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return true;
        };
        // Accepts TCP connections (the kernel completes them) and never answers a TLS hello.
        var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            var silentPort = ((IPEndPoint)silent.LocalEndpoint).Port;
            await using var proxy = await ProxyHost.StartAsync(replay.BaseAddress, new Uri($"https://127.0.0.1:{silentPort}"), replay.BaseAddress);
            using var client = proxy.CreateClient();

            var response = await client.GetAsync(Path);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var hosts = json.RootElement.GetProperty("upstreams").EnumerateArray().ToDictionary(h => h.GetProperty("usedBy")[0].GetString()!);
            var hanging = hosts["replay"];
            Assert.False(hanging.GetProperty("reachable").GetBoolean());
            Assert.True(hanging.GetProperty("connect").GetProperty("ok").GetBoolean());
            Assert.Equal("timeout", hanging.GetProperty("http").GetProperty("error").GetString());
            var mute = hosts["config"];
            Assert.True(mute.GetProperty("connect").GetProperty("ok").GetBoolean());
            Assert.Equal("timeout", mute.GetProperty("tls").GetProperty("error").GetString());
            // It gave the step its whole deadline (no upper bound: a busy machine may answer later).
            Assert.True(hanging.GetProperty("http").GetProperty("milliseconds").GetDouble() >= UpstreamProbe.StepTimeout.TotalMilliseconds * 0.9);
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public async Task Concurrent_calls_share_one_check_and_its_result_is_reused_for_a_short_time()
    {
        var clock = new ManualClock();
        await using var upstream = await FakeAmplitude.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probes = 0;
        upstream.BeforeBody = async _ =>
        {
            Interlocked.Increment(ref probes);
            await release.Task;
            return false;
        };
        await using var proxy = await ProxyHost.StartAsync(upstream, services: s => s.AddSingleton<TimeProvider>(clock));
        using var client = proxy.CreateClient();

        var calls = Enumerable.Range(0, 8).Select(_ => client.GetAsync(Path)).ToArray();
        Assert.True(await Eventually(() => Volatile.Read(ref probes) > 0), "the check never reached the upstream");
        // Every call is in flight, waiting on the one probe the upstream is holding; none started a check of its own.
        await Task.Delay(300);
        Assert.All(calls, c => Assert.False(c.IsCompleted));
        Assert.Equal(1, Volatile.Read(ref probes));
        release.SetResult();
        var responses = await Task.WhenAll(calls);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var checkedAt = await Task.WhenAll(responses.Select(async r => JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("checkedAt").GetString()));
        Assert.Single(checkedAt.Distinct());
        Assert.Single(upstream.Received);

        clock.Advance(UpstreamDiagnostics.ReuseFor - TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Path)).StatusCode);
        Assert.Single(upstream.Received);

        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Path)).StatusCode);
        Assert.Equal(2, upstream.Received.Count);
    }

    [Fact]
    public async Task With_FrontDoorId_set_it_requires_the_Front_Door_header()
    {
        var frontDoorId = Guid.NewGuid();
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { ["FrontDoorId"] = frontDoorId.ToString() });
        using var client = proxy.CreateClient();

        await ProblemAssert.IsProblemAsync(await client.GetAsync(Path), HttpStatusCode.Forbidden);
        Assert.Empty(upstream.Received);

        var request = new HttpRequestMessage(HttpMethod.Get, Path);
        request.Headers.Add("X-Azure-FDID", frontDoorId.ToString());
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("settings").GetProperty("frontDoorCheck").GetBoolean());
        Assert.DoesNotContain(frontDoorId.ToString(), json.RootElement.GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Only_GET_is_answered()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);
        using var client = proxy.CreateClient();
        var response = await client.PostAsync(Path, new StringContent("{}"));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.MethodNotAllowed);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task An_untrusted_certificate_fails_the_check_as_it_fails_forwarding_and_its_expiry_is_still_reported()
    {
        await using var https = await FakeHttpsUpstream.StartAsync(TimeSpan.FromDays(30));
        await using var proxy = await ProxyHost.StartAsync(https.BaseAddress, https.BaseAddress, https.BaseAddress);
        using var client = proxy.CreateClient();

        var response = await client.GetAsync(Path);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var host = Assert.Single(json.RootElement.GetProperty("upstreams").EnumerateArray());
        Assert.Equal("localhost", host.GetProperty("host").GetString());
        Assert.Equal("https", host.GetProperty("scheme").GetString());
        Assert.True(host.GetProperty("connect").GetProperty("ok").GetBoolean());
        var tls = host.GetProperty("tls");
        Assert.False(tls.GetProperty("ok").GetBoolean());
        Assert.Equal("certificate_not_trusted", tls.GetProperty("error").GetString());
        Assert.Equal(ExpectedDays(https), tls.GetProperty("certificateDaysToExpiry").GetInt32());
        Assert.Equal("SecureConnectionError", host.GetProperty("http").GetProperty("error").GetString());

        // Forwarding meets the same refusal.
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/config/abc123"), HttpStatusCode.BadGateway);
        Assert.Equal(0, https.Requests);
    }

    [Fact]
    public async Task A_trusted_certificate_reports_handshake_protocol_expiry_and_status()
    {
        await using var https = await FakeHttpsUpstream.StartAsync(TimeSpan.FromDays(45));
        var thumbprint = https.Certificate.Thumbprint;
        // Test-only trust: the one certificate this test created, for forwarding and the diagnostic alike.
        var trust = new UpstreamCertificateValidation((_, certificate, _, errors) =>
            errors == SslPolicyErrors.None || (certificate is not null && certificate.GetCertHashString() == thumbprint && errors == SslPolicyErrors.RemoteCertificateChainErrors));
        await using var proxy = await ProxyHost.StartAsync(https.BaseAddress, https.BaseAddress, https.BaseAddress, services: s => s.AddSingleton(trust));
        using var client = proxy.CreateClient();

        var response = await client.GetAsync(Path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var host = Assert.Single(json.RootElement.GetProperty("upstreams").EnumerateArray());
        var tls = host.GetProperty("tls");
        Assert.True(tls.GetProperty("ok").GetBoolean());
        Assert.StartsWith("Tls1", tls.GetProperty("protocol").GetString(), StringComparison.Ordinal);
        Assert.Equal(ExpectedDays(https), tls.GetProperty("certificateDaysToExpiry").GetInt32());
        Assert.True(host.GetProperty("dns").GetProperty("addresses").GetInt32() >= 1);
        Assert.Equal(200, host.GetProperty("http").GetProperty("status").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/config/abc123")).StatusCode);
        Assert.Equal(2, https.Requests);
    }

    private static int ExpectedDays(FakeHttpsUpstream https) =>
        (int)Math.Floor((https.Certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays);

    private static async Task<int> ClosedPortAsync()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await Task.Yield();
        return port;
    }

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        await ReplayProxy.Testing.Eventually.WaitUntil(condition, TimeSpan.FromSeconds(5));
        return condition();
    }
}
