// Soak: 60 s of mixed traffic at saturation against the Release standalone host (a child process), with a fake
// Amplitude in this process. Reports unexpected statuses, error/critical log lines of the proxy, and per 5 s the proxy's
// RSS, open sockets and the fake's open upstream connections. Usage: see bench/soak.sh.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

var options = Args.Parse(args);
var inv = CultureInfo.InvariantCulture;

// ---- fake Amplitude ----------------------------------------------------------------------------------------------
var upstreamOpen = 0;
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.WebHost.ConfigureKestrel(k =>
{
    k.Limits.MaxRequestBodySize = null;
    k.ConfigureEndpointDefaults(l => l.Use(next => async c =>
    {
        Interlocked.Increment(ref upstreamOpen);
        try { await next(c); } finally { Interlocked.Decrement(ref upstreamOpen); }
    }));
});
var fake = builder.Build();
fake.Run(async context =>
{
    var buffer = new byte[64 * 1024];
    try
    {
        while (await context.Request.Body.ReadAsync(buffer, context.RequestAborted) > 0)
        {
        }
    }
    catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
    {
        return;
    }

    if (int.TryParse(context.Request.Query["fail"], out var fail))
    {
        context.Response.StatusCode = fail;
        context.Response.Headers.RetryAfter = "1";
    }

    context.Response.ContentType = "application/json";
    await context.Response.WriteAsync(HttpMethods.IsGet(context.Request.Method)
        ? """{"configs":{"sessionReplay":{"sr_sampling_config":{"sample_rate":1,"capture_enabled":true}}}}"""
        : $$"""{"code":{{context.Response.StatusCode}}}""");
});
await fake.StartAsync();
var fakeUrl = fake.Urls.First();

// ---- the proxy, as deployed standalone -----------------------------------------------------------------------------
var start = new ProcessStartInfo("dotnet", Path.Combine(options.ProxyDir, "ReplayProxy.Server.dll"))
{
    RedirectStandardOutput = true,
    RedirectStandardError = true,
    UseShellExecute = false,
};
start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
start.Environment["DOTNET_gcServer"] = options.ServerGc ? "1" : "0";
foreach (var kind in new[] { "Replay", "Config", "Analytics" })
{
    start.Environment[$"ReplayProxy__Upstreams__{kind}"] = fakeUrl;
}

using var proxy = Process.Start(start)!;
var logLines = new ConcurrentQueue<string>();
var listening = new TaskCompletionSource<Uri>();
void OnLine(object? _, DataReceivedEventArgs e)
{
    if (e.Data is null)
    {
        return;
    }

    logLines.Enqueue(e.Data);
    var at = e.Data.IndexOf("Now listening on: ", StringComparison.Ordinal);
    if (at >= 0)
    {
        listening.TrySetResult(new Uri(e.Data[(at + 18)..].Trim()));
    }
}

proxy.OutputDataReceived += OnLine;
proxy.ErrorDataReceived += OnLine;
proxy.BeginOutputReadLine();
proxy.BeginErrorReadLine();
var proxyUri = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));

// ---- traffic -----------------------------------------------------------------------------------------------------
using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false, UseProxy = false, AutomaticDecompression = DecompressionMethods.None })
{
    BaseAddress = proxyUri,
    Timeout = TimeSpan.FromSeconds(30),
};
var bodies = Enumerable.Range(0, 16).Select(i =>
{
    var b = new byte[1024 << (i % 7)];
    new Random(i).NextBytes(b);
    return b;
}).ToArray();
var counts = new ConcurrentDictionary<string, int>();
var unexpected = new ConcurrentDictionary<string, int>();
var done = 0L;
var watch = Stopwatch.StartNew();
var end = TimeSpan.FromSeconds(options.Seconds);

async Task WorkerAsync(int id)
{
    var random = new Random(id);
    while (watch.Elapsed < end)
    {
        var roll = random.Next(100);
        string op;
        int expected;
        HttpResponseMessage? response = null;
        try
        {
            if (roll < 50)
            {
                (op, expected) = ("track", 200);
                var content = new ByteArrayContent(bodies[random.Next(bodies.Length)]);
                content.Headers.ContentEncoding.Add("gzip");
                content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
                response = await client.PostAsync($"/sessions/v2/track?device_id=soak&session_id={id}&type=replay", content);
            }
            else if (roll < 70)
            {
                (op, expected) = ("config", 200);
                response = await client.GetAsync("/config/soakkey?config_group=browser");
            }
            else if (roll < 90)
            {
                (op, expected) = ("analytics", 200);
                response = await client.PostAsync(roll < 85 ? "/2/httpapi" : "/batch", new StringContent("""{"api_key":"soakkey","events":[{"event_type":"x"}]}""", Encoding.UTF8, "application/json"));
            }
            else if (roll < 95)
            {
                var status = roll < 93 ? 503 : 429;
                (op, expected) = ($"upstream {status}", status);
                response = await client.PostAsync($"/sessions/v2/track?device_id=soak&fail={status}", new ByteArrayContent(bodies[0]));
            }
            else
            {
                (op, expected) = ("client abort", 0);
                using var tcp = new TcpClient { NoDelay = true };
                await tcp.ConnectAsync(proxyUri.Host, proxyUri.Port);
                var stream = tcp.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /sessions/v2/track?device_id=abort HTTP/1.1\r\nHost: {proxyUri.Authority}\r\nContent-Length: 1000000\r\n\r\n"));
                await stream.WriteAsync(bodies[3]);
                await Task.Delay(random.Next(1, 20));
                tcp.Client.LingerState = new LingerOption(true, 0);
            }

            if (response is not null)
            {
                await response.Content.ReadAsByteArrayAsync();
                if ((int)response.StatusCode != expected)
                {
                    unexpected.AddOrUpdate($"{op} → {(int)response.StatusCode}", 1, (_, n) => n + 1);
                }
            }

            counts.AddOrUpdate(op, 1, (_, n) => n + 1);
            Interlocked.Increment(ref done);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or SocketException or TaskCanceledException)
        {
            unexpected.AddOrUpdate($"client exception {ex.GetType().Name}: {ex.Message}", 1, (_, n) => n + 1);
        }
        finally
        {
            response?.Dispose();
        }
    }
}

// ---- sampling ----------------------------------------------------------------------------------------------------
var samples = new List<(double T, long RssKb, int Sockets, int Fds, int UpstreamOpen, long Requests)>();
long Rss()
{
    foreach (var line in File.ReadLines($"/proc/{proxy.Id}/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], inv);
        }
    }

    return -1;
}

(int Sockets, int Fds) Handles()
{
    var fds = Directory.GetFiles($"/proc/{proxy.Id}/fd");
    var sockets = 0;
    foreach (var fd in fds)
    {
        try
        {
            if (new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true)
            {
                sockets++;
            }
        }
        catch (IOException)
        {
        }
    }

    return (sockets, fds.Length);
}

var sampler = Task.Run(async () =>
{
    long last = 0;
    for (var t = 5; t <= options.Seconds; t += 5)
    {
        var wait = TimeSpan.FromSeconds(t) - watch.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var now = Interlocked.Read(ref done);
        var (sockets, fds) = Handles();
        samples.Add((t, Rss(), sockets, fds, Volatile.Read(ref upstreamOpen), now - last));
        last = now;
    }
});

await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(i => Task.Run(() => WorkerAsync(i))));
await sampler;
var total = Interlocked.Read(ref done);
var elapsed = watch.Elapsed;
await Task.Delay(1000);
proxy.Kill(entireProcessTree: true);
await proxy.WaitForExitAsync();
await fake.StopAsync();

// ---- report ------------------------------------------------------------------------------------------------------
var errorLines = logLines.Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal) || l.Contains("Unhandled exception", StringComparison.Ordinal)).ToList();
var warnLines = logLines.Where(l => l.StartsWith("warn:", StringComparison.Ordinal)).ToList();
var steady = samples.Where(s => s.T >= 10).ToList();
Console.WriteLine(string.Create(inv, $"Soak: {options.Seconds} s, {options.Concurrency} concurrent clients, {Environment.ProcessorCount} CPUs, proxy {options.ProxyDir} (Release, {(options.ServerGc ? "server" : "workstation")} GC)"));
Console.WriteLine(string.Create(inv, $"{total} requests in {elapsed.TotalSeconds:F1} s ({total / elapsed.TotalSeconds:F0}/s): {string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"))}"));
Console.WriteLine($"unexpected statuses/exceptions: {(unexpected.IsEmpty ? "none" : string.Join("; ", unexpected.Select(u => $"{u.Key} ×{u.Value}")))}");
Console.WriteLine($"proxy log lines at error/critical or unhandled exceptions: {errorLines.Count}; warnings: {warnLines.Count}{WarnSummary(logLines.ToList())}");
foreach (var line in errorLines.Take(10))
{
    Console.WriteLine("  " + line);
}

Console.WriteLine();
Console.WriteLine("| t (s) | requests in window | proxy RSS (MiB) | proxy sockets | proxy fds | upstream connections open |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
foreach (var s in samples)
{
    Console.WriteLine(string.Create(inv, $"| {s.T:F0} | {s.Requests} | {s.RssKb / 1024.0:F0} | {s.Sockets} | {s.Fds} | {s.UpstreamOpen} |"));
}

if (steady.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine(string.Create(inv, $"from 10 s on: RSS {steady.Min(s => s.RssKb) / 1024.0:F0}–{steady.Max(s => s.RssKb) / 1024.0:F0} MiB, proxy sockets {steady.Min(s => s.Sockets)}–{steady.Max(s => s.Sockets)}, upstream connections {steady.Min(s => s.UpstreamOpen)}–{steady.Max(s => s.UpstreamOpen)}"));
}

return unexpected.IsEmpty && errorLines.Count == 0 ? 0 : 1;

static string WarnSummary(List<string> lines)
{
    // The console logger writes "warn: Category[id]" and the message on the next line; count by message.
    var messages = lines.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("warn:", StringComparison.Ordinal) && x.i + 1 < lines.Count)
        .GroupBy(x => lines[x.i + 1].Trim()).Select(g => $"{g.Key} ×{g.Count()}").ToList();
    return messages.Count == 0 ? string.Empty : " (" + string.Join("; ", messages) + ")";
}

internal sealed record Args(string ProxyDir, int Seconds, int Concurrency, bool ServerGc)
{
    public static Args Parse(string[] args)
    {
        string? dir = null;
        int seconds = 60, concurrency = 64;
        var serverGc = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--proxy-dir": dir = args[++i]; break;
                case "--seconds": seconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--server-gc": serverGc = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        return new Args(dir ?? throw new ArgumentException("--proxy-dir <published ReplayProxy.Server> is required"), seconds, concurrency, serverGc);
    }
}
