using System.Diagnostics;
using System.Net;
using ReplayProxy.Tests.Infrastructure;

namespace ReplayProxy.Tests.Integration;

public sealed class SettingsTests
{
    [Fact]
    public async Task Upstream_headers_are_added_to_every_upstream_request_replacing_a_client_copy()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?>
        {
            ["UpstreamHeaders:X-Proxy-Auth"] = "s3cret",
            ["UpstreamHeaders:X-Tenant"] = "acme",
        });
        using var client = proxy.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/config/key");
        request.Headers.TryAddWithoutValidation("X-Proxy-Auth", "forged");

        using var response = await client.SendAsync(request);
        using var post = await client.PostAsync("/2/httpapi", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.All(upstream.Received, r =>
        {
            Assert.Equal("s3cret", Assert.Single(r.HeaderValues("X-Proxy-Auth")));
            Assert.Equal("acme", r.Header("X-Tenant"));
        });
        Assert.False(response.Headers.Contains("X-Proxy-Auth"));
    }

    public static TheoryData<string, string, string> InvalidSettings() => new()
    {
        { "ReplayProxy__Region", "APAC", "ReplayProxy:Region" },
        { "ReplayProxy__Upstreams__Replay", "not a url", "ReplayProxy:Upstreams:Replay" },
        { "ReplayProxy__FrontDoorId", "abc", "ReplayProxy:FrontDoorId" },
        { "ReplayProxy__UpstreamTimeoutSeconds", "-5", "ReplayProxy:UpstreamTimeoutSeconds" },
        { "ReplayProxy__UpstreamTimeoutSeconds", "soon", "ReplayProxy:UpstreamTimeoutSeconds" },
        { "ReplayProxy__MaxRequestBodyBytes", "0", "ReplayProxy:MaxRequestBodyBytes" },
        { "ReplayProxy__AllowedOrigins", "*", "ReplayProxy:AllowedOrigins" },
        { "ReplayProxy__Regoin", "EU", "ReplayProxy:Regoin" },
        { "ReplayProxy__Upstreams__Replays", "http://127.0.0.1:1", "ReplayProxy:Upstreams:Replays" },
    };

    /// <summary>The real standalone host, started as a process: bad settings end it at start, exit code 1, with a
    /// message naming the setting.</summary>
    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task Standalone_host_refuses_to_start_with_invalid_settings(string variable, string value, string named)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "ReplayProxy.Server.dll"), "--urls", "http://127.0.0.1:0" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment[variable] = value;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the host started with {variable}={value}");
        }

        Assert.Equal(1, process.ExitCode);
        var message = await stderr;
        Assert.Contains("ReplayProxy failed to start", message, StringComparison.Ordinal);
        Assert.Contains(named, message, StringComparison.Ordinal);
        _ = await stdout;
    }
}
