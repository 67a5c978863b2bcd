using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace ReplayProxy.Tests.Reliability;

/// <summary>
/// 1,000 clients vanish (TCP reset) in the middle of an upload that the proxy is already streaming upstream. Each upstream
/// request must be cancelled, and afterwards the proxy must hold no more upstream connections, file descriptors or managed
/// memory than after a warm-up of the same shape.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ClientAbortLeakTests(ITestOutputHelper output)
{
    private const int Aborts = 1_000;
    private const int WarmUpAborts = 100;
    private const int Concurrency = 32;

    private sealed record Snapshot(int UpstreamOpen, int UpstreamTotal, int FileDescriptors, long ManagedBytes, long WorkingSet)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"upstream connections open {UpstreamOpen} (accepted so far {UpstreamTotal}), fds {FileDescriptors}, managed heap {ManagedBytes / 1048576.0:F1} MiB, RSS {WorkingSet / 1048576.0:F0} MiB");
    }

    private static Snapshot Take(FakeAmplitude upstream)
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        using var process = Process.GetCurrentProcess();
        return new Snapshot(upstream.OpenConnections, upstream.TotalConnections, Directory.GetFiles("/proc/self/fd").Length, GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }

    [Fact]
    public async Task Thousand_client_aborts_mid_upload_leave_no_upstream_connections_handles_or_memory_behind()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        upstream.KeepBodiesUpTo = 0;
        var started = new ConcurrentDictionary<string, TaskCompletionSource>();
        upstream.BeforeBody = context =>
        {
            if (context.Request.Query["abort"].ToString() is { Length: > 0 } id)
            {
                started.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }

            return Task.FromResult(false);
        };
        await using var proxy = await ProxyHost.StartAsync(upstream);

        async Task AbortOneAsync(string id)
        {
            var arrived = started.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            using var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync(proxy.BaseAddress.Host, proxy.BaseAddress.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /sessions/v2/track?device_id=d&session_id=1&abort={id} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"));
            await stream.WriteAsync(new byte[64 * 1024]);
            // Mid-upload for real: the upstream request has started before the client goes.
            await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
            tcp.Client.LingerState = new LingerOption(true, 0);
        }

        async Task UploadsAsync(int count)
        {
            using var client = proxy.CreateClient();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
            {
                using var response = await client.PostAsync($"/sessions/v2/track?device_id=ok&session_id={i}", new ByteArrayContent(new byte[64 * 1024]), ct);
                Assert.Equal(200, (int)response.StatusCode);
            });
        }

        async Task AbortsAsync(string prefix, int count, int expectedTotal)
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, _) => await AbortOneAsync(prefix + i.ToString(CultureInfo.InvariantCulture)));
            var until = DateTime.UtcNow.AddSeconds(30);
            while (upstream.AbortedRequests < expectedTotal && DateTime.UtcNow < until)
            {
                await Task.Delay(20);
            }
        }

        async Task QuiesceAsync()
        {
            // Let closes propagate: both ends of every reset connection, and the proxy's handlers finishing.
            var last = -1;
            for (var i = 0; i < 50 && upstream.OpenConnections != last; i++)
            {
                last = upstream.OpenConnections;
                await Task.Delay(100);
            }

            upstream.Clear();
            proxy.Logs.Clear();
        }

        // Warm-up of the same shape, so pools, JIT and buffers are in their steady state before the baseline.
        await AbortsAsync("w", WarmUpAborts, WarmUpAborts);
        await UploadsAsync(200);
        await QuiesceAsync();
        var before = Take(upstream);

        var watch = Stopwatch.StartNew();
        await AbortsAsync("a", Aborts, WarmUpAborts + Aborts);
        watch.Stop();
        var aborted = upstream.AbortedRequests - WarmUpAborts;
        var completed = upstream.Received.Count(r => r.BodyCompleted);
        // Kestrel often reports a reset mid-body as a malformed body before RequestAborted fires; that is the client's
        // doing, so it must not show up as a proxy warning or error.
        var warnings = proxy.Logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        await UploadsAsync(200);
        await QuiesceAsync();
        var after = Take(upstream);

        output.WriteLine($"{Aborts} aborts in {watch.Elapsed.TotalSeconds:F1} s; upstream saw {aborted} cancelled uploads, {completed} completed; {warnings.Count} warnings or errors logged");
        output.WriteLine("before: " + before);
        output.WriteLine("after:  " + after);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"growth: upstream connections {after.UpstreamOpen - before.UpstreamOpen:+#;-#;0}, fds {after.FileDescriptors - before.FileDescriptors:+#;-#;0}, managed {(after.ManagedBytes - before.ManagedBytes) / 1048576.0:+0.0;-0.0} MiB, RSS {(after.WorkingSet - before.WorkingSet) / 1048576.0:+0;-0} MiB"));

        Assert.Equal(Aborts, aborted);
        Assert.Equal(0, completed);
        Assert.Empty(warnings);
        // Idle pooled connections are legitimate (at most one per concurrent request); a leak would be ~1,000.
        Assert.InRange(after.UpstreamOpen, 0, Math.Max(before.UpstreamOpen, Concurrency));
        // Each side of a pooled connection is one fd in this process; 1,000 leaked sockets would be 1,000+.
        Assert.InRange(after.FileDescriptors - before.FileDescriptors, int.MinValue, 2 * Concurrency);
        Assert.InRange(after.ManagedBytes - before.ManagedBytes, long.MinValue, 8L * 1024 * 1024);
    }
}
