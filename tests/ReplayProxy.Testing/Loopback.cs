using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ReplayProxy.Testing;

public static class Loopback
{
    /// <summary>Starts an app bound to 127.0.0.1:0 and returns the address Kestrel picked.</summary>
    public static async Task<Uri> StartAsync(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        await app.StartAsync();
        return AddressOf(app);
    }

    /// <summary>The first address a started app listens on.</summary>
    public static Uri AddressOf(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        return new Uri(addresses.Addresses.First());
    }

    /// <summary>A loopback port nothing listened on a moment ago: for a process that must be told its port, or an
    /// address that refuses connections.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>An http address on loopback where nothing listens.</summary>
    public static Uri ClosedAddress() => new($"http://127.0.0.1:{FreePort()}");
}
