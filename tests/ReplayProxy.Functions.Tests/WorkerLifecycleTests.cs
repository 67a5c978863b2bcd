using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace ReplayProxy.Functions.Tests;

/// <summary>Start, stop, bad settings and body limits of the test host with the real worker.</summary>
[Collection(WorkerPathCollection.Name)]
public sealed class WorkerLifecycleTests
{
    [Fact]
    public async Task Bad_settings_end_the_host_non_zero_with_the_workers_message_naming_the_setting()
    {
        await using var host = await FunctionsHostProcess.RunToExitAsync(new Dictionary<string, string?>
        {
            ["ReplayProxy__Region"] = "Mars",
            ["ReplayProxy__UpstreamTimeoutSeconds"] = "0",
        });

        Assert.NotEqual(0, await host.Exited);
        Assert.Contains("[worker] ReplayProxy failed to start", host.Error, StringComparison.Ordinal);
        Assert.Contains("ReplayProxy:Region", host.Error, StringComparison.Ordinal);
        Assert.Contains("ReplayProxy:UpstreamTimeoutSeconds", host.Error, StringComparison.Ordinal);
        Assert.False(FunctionsHostProcess.IsRunning(host.WorkerProcessId));
    }

    [Fact]
    public async Task Stopping_the_host_ends_its_worker_and_leaves_no_process()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var host = await FunctionsHostProcess.StartAsync(WorkerPath.Settings(upstream.BaseAddress));
        var worker = host.WorkerProcessId;
        Assert.True(FunctionsHostProcess.IsRunning(worker));

        Assert.Equal(0, await host.StopAsync());

        Assert.False(FunctionsHostProcess.IsRunning(worker));
        Assert.False(FunctionsHostProcess.IsRunning(host.ProcessId));
    }

    /// <summary>
    /// The worker's own Kestrel refuses bodies over 30,000,000 bytes unless told otherwise, which the host turns into a
    /// 500: a 35 MB upload under a 40 MiB <c>MaxRequestBodyBytes</c> must arrive whole. One over the setting must get
    /// the proxy's 413 that the replay SDK splits on, also on a connection the host has used before: with the worker's
    /// Kestrel limit equal to the proxy's, Kestrel dropped that connection mid-upload and the host answered 502.
    /// </summary>
    [Fact]
    public async Task Bodies_over_the_workers_default_kestrel_limit_follow_the_proxy_setting()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var host = await FunctionsHostProcess.StartAsync(WorkerPath.Settings(upstream.BaseAddress, ("ReplayProxy__MaxRequestBodyBytes", "41943040")));
        using var client = ProxyClient.Create(host.BaseAddress);

        var marker = Guid.NewGuid().ToString();
        var body = new byte[35_000_000];
        new Random(3).NextBytes(body);
        using (var response = await client.SendAsync(Upload(body, marker)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var received = WorkerPath.Received(upstream, marker);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(body)), received.BodySha256);
        Assert.Equal(body.Length, received.BodyLength);

        var before = upstream.Received.Count;
        using (var response = await client.SendAsync(Upload(new byte[41943041], Guid.NewGuid().ToString())))
        {
            Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{response.StatusCode}\n{host.Output}\n{host.Error}");
            Assert.Contains("payload size exceeded", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(before, upstream.Received.Count);
    }

    private static HttpRequestMessage Upload(byte[] body, string marker)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/sessions/v2/track?device_id=d&session_id=1")
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.Add("X-Test-Id", marker);
        return request;
    }
}
