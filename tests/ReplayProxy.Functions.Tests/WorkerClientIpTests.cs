using System.Net;

namespace ReplayProxy.Functions.Tests;

/// <summary>
/// The client IP Amplitude sees through the host and the worker. The host sets <c>X-Forwarded-For</c> to its socket
/// peer and the worker applies forwarded-headers processing to it, so the proxy's socket peer is the host's client;
/// what the internet sends in <c>X-Forwarded-For</c> or an unvouched <c>X-Azure-ClientIP</c> never becomes the IP.
/// </summary>
[Collection(WorkerPathCollection.Name)]
public sealed class WorkerClientIpTests
{
    private const string FrontDoorId = "6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b";
    private const string EdgeClientIp = "198.51.100.7";
    private const string SpoofedIp = "203.0.113.9";

    [Fact]
    public async Task Without_Front_Door_client_sent_forwarding_headers_never_become_the_client_ip()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var host = await FunctionsHostProcess.StartAsync(WorkerPath.Settings(upstream.BaseAddress));
        // From 127.0.0.2: the host connects to the worker from 127.0.0.1, so forwarding the host's address fails.
        using var client = ProxyClient.Create(host.BaseAddress, ProxyClient.OtherLoopback);

        var marker = await Send(client, ("X-Forwarded-For", SpoofedIp), ("X-Azure-ClientIP", EdgeClientIp), ("X-Real-IP", SpoofedIp));

        var received = WorkerPath.Received(upstream, marker);
        Assert.Equal(ProxyClient.OtherLoopback.ToString(), Assert.Single(received.HeaderValues("X-Forwarded-For")));
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(SpoofedIp, StringComparison.Ordinal) || h.Value.Contains(EdgeClientIp, StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_the_Front_Door_id_the_edge_client_ip_is_the_client_ip_and_without_it_nothing_is_forwarded()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var host = await FunctionsHostProcess.StartAsync(WorkerPath.Settings(upstream.BaseAddress, ("ReplayProxy__FrontDoorId", FrontDoorId)));
        using var client = ProxyClient.Create(host.BaseAddress, ProxyClient.OtherLoopback);

        var vouched = await Send(client, ("X-Azure-FDID", FrontDoorId), ("X-Azure-ClientIP", EdgeClientIp), ("X-Forwarded-For", SpoofedIp));
        Assert.Equal(EdgeClientIp, WorkerPath.Received(upstream, vouched).Header("X-Forwarded-For"));

        var before = upstream.Received.Count;
        await Send(client, HttpStatusCode.Forbidden, ("X-Azure-FDID", Guid.NewGuid().ToString()), ("X-Azure-ClientIP", EdgeClientIp));
        Assert.Equal(before, upstream.Received.Count);
    }

    private static Task<string> Send(HttpClient client, params (string Name, string Value)[] headers) => Send(client, HttpStatusCode.OK, headers);

    private static async Task<string> Send(HttpClient client, HttpStatusCode expected, params (string Name, string Value)[] headers)
    {
        var marker = Guid.NewGuid().ToString();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/config/k3yAbc?config_group=browser");
        request.Headers.Add("X-Test-Id", marker);
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
        return marker;
    }
}
