using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace ReplayProxy.Tests.Reliability;

/// <summary>
/// A client trickling its body (slow-POST denial of service) is cut off by Kestrel's <c>MinRequestBodyDataRate</c>
/// (default 240 B/s after a 5 s grace period), in the proxy as configured by default and in the standalone host as
/// configured through <c>Kestrel:Limits:MinRequestBodyDataRate</c>.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SlowClientTests(ITestOutputHelper output)
{
    /// <summary>Sends the head, then <paramref name="bytesPerTick"/> bytes every 200 ms (5 B/s by default) until the
    /// server answers or closes, or <paramref name="giveUp"/> has passed.</summary>
    internal static async Task<(TimeSpan Elapsed, int BytesSent, RawResult Result)> TrickleAsync(Uri server, TimeSpan giveUp, int bytesPerTick = 1)
    {
        var tick = new byte[bytesPerTick];
        Array.Fill(tick, (byte)'x');
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /sessions/v2/track?device_id=slow&session_id=1 HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"));
        var watch = Stopwatch.StartNew();
        var sent = 0;
        var buffer = new byte[16 * 1024];
        var received = new MemoryStream();
        var read = stream.ReadAsync(buffer).AsTask();
        while (watch.Elapsed < giveUp && !read.IsCompleted)
        {
            try
            {
                await stream.WriteAsync(tick);
                sent += tick.Length;
            }
            catch (IOException)
            {
                break;
            }

            await Task.WhenAny(read, Task.Delay(200));
        }

        var closed = false;
        try
        {
            while (true)
            {
                var n = await read.WaitAsync(TimeSpan.FromSeconds(3));
                if (n == 0)
                {
                    closed = true;
                    break;
                }

                received.Write(buffer, 0, n);
                read = stream.ReadAsync(buffer).AsTask();
            }
        }
        catch (Exception ex) when (ex is IOException or TimeoutException)
        {
            closed = ex is IOException;
        }

        return (watch.Elapsed, sent, new RawResult(received.ToArray(), closed, !closed));
    }

    [Fact]
    public async Task Body_trickled_byte_by_byte_is_cut_off_by_the_minimum_data_rate()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        var (elapsed, sent, result) = await TrickleAsync(proxy.BaseAddress, TimeSpan.FromSeconds(14));

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cut off after {elapsed.TotalSeconds:F1} s and {sent} bytes: {result}"));
        Assert.True(result.ClosedByServer || result.Statuses.Count > 0, $"still open after {elapsed}: {result}");
        Assert.All(result.Statuses, s => Assert.InRange(s, 400, 499));
        Assert.DoesNotContain(upstream.Received, r => r.BodyCompleted);
    }

    /// <summary>The documented setting reaches the standalone host: a client sending about 500 B/s, which the default
    /// minimum (240 B/s) lets through, is cut off with 1,000 B/s configured (2 s grace; Kestrel's minimum is above 1 s).
    /// The outcome, not the time it took, tells the two apart.</summary>
    [Fact]
    public async Task Standalone_host_takes_the_rate_from_Kestrel_Limits_configuration()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var server = await StandaloneServer.StartAsync(upstream.BaseAddress, new Dictionary<string, string>
        {
            ["Kestrel__Limits__MinRequestBodyDataRate__BytesPerSecond"] = "1000",
            ["Kestrel__Limits__MinRequestBodyDataRate__GracePeriod"] = "00:00:02",
        });

        var (elapsed, sent, result) = await TrickleAsync(server.BaseAddress, TimeSpan.FromSeconds(20), bytesPerTick: 100);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cut off after {elapsed.TotalSeconds:F1} s and {sent} bytes: {result}"));
        Assert.True(result.ClosedByServer || result.Statuses.Count > 0, $"still open after {elapsed} and {sent} bytes: {result}");
        Assert.All(result.Statuses, s => Assert.InRange(s, 400, 499));
    }
}

/// <summary>The standalone host (ReplayProxy.Server) as a child process, configured only through its environment.</summary>
internal sealed class StandaloneServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private StandaloneServer(Process process) => _process = process;

    public Uri BaseAddress { get; private set; } = null!;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<StandaloneServer> StartAsync(Uri upstream, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", Path.Combine(AppContext.BaseDirectory, "ReplayProxy.Server.dll"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ReplayProxy__Upstreams__Replay"] = upstream.ToString();
        start.Environment["ReplayProxy__Upstreams__Config"] = upstream.ToString();
        start.Environment["ReplayProxy__Upstreams__Analytics"] = upstream.ToString();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var server = new StandaloneServer(Process.Start(start)!);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (server._output)
            {
                server._output.AppendLine(e.Data);
            }

            var at = e.Data.IndexOf("Now listening on: ", StringComparison.Ordinal);
            if (at >= 0)
            {
                listening.TrySetResult(new Uri(e.Data[(at + "Now listening on: ".Length)..].Trim()));
            }
        }

        server._process.OutputDataReceived += OnLine;
        server._process.ErrorDataReceived += OnLine;
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            server.BaseAddress = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            await server.DisposeAsync();
            throw new InvalidOperationException("The standalone host did not start: " + server.Output);
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
