using System.Net;
using System.Net.Sockets;

namespace ReplayProxy.Testing;

/// <summary>A running proxy the contract suite talks to over a real socket, whatever host it runs in.</summary>
public interface IProxyUnderTest : IAsyncDisposable
{
    Uri BaseAddress { get; }

    /// <summary>The proxy's log lines, where the proxy runs in this process; null for a host in another process.</summary>
    CapturingLoggerProvider? Logs { get; }

    /// <summary>Ends the proxy at once, as a crash or a SIGKILL would, where it runs as a process; in this process
    /// (nothing to kill) it stops it.</summary>
    ValueTask KillAsync() => DisposeAsync();

    /// <summary>A client that sends exactly what it is told: no cookies container, no decompression, no proxy, no redirects.</summary>
    HttpClient CreateClient() => ProxyClient.Create(BaseAddress);
}

public static class ProxyClient
{
    /// <summary>Another loopback address than the one every host listens on (127.0.0.1): a client that connects from
    /// it can be told apart from a host in between, which connects from 127.0.0.1.</summary>
    public static readonly IPAddress OtherLoopback = IPAddress.Parse("127.0.0.2");

    /// <summary>A client for <paramref name="baseAddress"/> that sends exactly what it is told; with
    /// <paramref name="localAddress"/>, its connections come from that address.</summary>
    public static HttpClient Create(Uri baseAddress, IPAddress? localAddress = null)
    {
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            // No traceparent from the test process: where another test listens to System.Net.Http, HttpClient would
            // send an unsampled one, and the worker's spans (children of it through the host) would not be exported.
            ActivityHeadersPropagator = null,
        };
        if (localAddress is not null)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(localAddress, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler)
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }
}

/// <summary>Where the proxy sends each route's requests.</summary>
public sealed record ProxyUpstreams(Uri Replay, Uri Config, Uri Analytics)
{
    public static ProxyUpstreams All(Uri upstream) => new(upstream, upstream, upstream);
}

/// <summary>A host that failed to start: its exit code and what it wrote to stderr.</summary>
public sealed record RefusedStart(int ExitCode, string Error);

/// <summary>
/// One way of hosting the proxy; the contract suite is written once against this and run once per kind. Settings are
/// keyed relative to the <c>ReplayProxy</c> section with <c>:</c> separators (e.g. <c>UpstreamHeaders:X-Tenant</c>).
/// </summary>
public interface IProxyKind
{
    /// <summary>True where the Functions host (our test host) is in front of the worker: it reads Content-Length bodies
    /// whole before the worker is invoked, and a worker that refuses to start is the host's failure.</summary>
    static abstract bool BehindFunctionsHost { get; }

    /// <summary>True where the host in front of the proxy adds the platform front end's request headers itself
    /// (<see cref="AppServiceFrontEnd"/>); elsewhere a test that needs them sends them from the client.</summary>
    static abstract bool HostAddsPlatformHeaders { get; }

    static abstract Task<IProxyUnderTest> StartAsync(ProxyUpstreams upstreams, IReadOnlyDictionary<string, string?>? settings = null);

    /// <summary>Starts the host as a process with one environment variable set to a bad value; returns once it has exited.</summary>
    static abstract Task<RefusedStart> StartRefusedAsync(string variable, string value);
}
