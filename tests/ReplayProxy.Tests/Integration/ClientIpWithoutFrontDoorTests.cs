using System.Net;

namespace ReplayProxy.Tests.Integration;

public abstract class ClientIpWithoutFrontDoorTests<TProxy>(ProxyFixture<TProxy> fixture) : IClassFixture<ProxyFixture<TProxy>>
    where TProxy : IProxyKind
{
    [Fact]
    public async Task Without_front_door_the_edge_header_is_not_trusted_and_the_socket_peer_is_forwarded()
    {
        fixture.Upstream.Clear();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/config/key");
        request.Headers.TryAddWithoutValidation("X-Azure-ClientIP", "203.0.113.9");
        request.Headers.TryAddWithoutValidation("X-Azure-FDID", Guid.NewGuid().ToString());

        // From 127.0.0.2: every host listens on, and the Functions host connects to the worker from, 127.0.0.1, so
        // forwarding anything but the client's own address fails.
        using var client = ProxyClient.Create(fixture.Proxy.BaseAddress, ProxyClient.OtherLoopback);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ProxyClient.OtherLoopback.ToString(), Assert.Single(Assert.Single(fixture.Upstream.Received).HeaderValues("X-Forwarded-For")));
    }
}

public sealed class StandaloneClientIpWithoutFrontDoorTests(ProxyFixture<StandaloneProxy> fixture) : ClientIpWithoutFrontDoorTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsClientIpWithoutFrontDoorTests(ProxyFixture<FunctionsProxy> fixture) : ClientIpWithoutFrontDoorTests<FunctionsProxy>(fixture);
