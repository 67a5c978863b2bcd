using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Testing;

/// <summary>What the fake Amplitude saw of one request.</summary>
public sealed record ReceivedRequest(
    string Method,
    string Path,
    string Query,
    string Host,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    long BodyLength,
    string BodySha256,
    byte[]? Body,
    bool BodyCompleted)
{
    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public IEnumerable<string> HeaderValues(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);
}

/// <summary>
/// A recording stand-in for Amplitude (or for the Azure Monitor ingestion endpoint) on a real loopback socket. It reads every body to the end (hashing it), records
/// the request, then lets <see cref="Respond"/> answer; the default answers 200 with a small JSON body (the ingestion
/// service's accepted-count answer on its <c>/v2.1/track</c>).
/// </summary>
public sealed class FakeAmplitude : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly ConcurrentDictionary<string, byte> _secrets = new(StringComparer.Ordinal);
    private int _aborted;
    private int _openConnections;
    private int _totalConnections;

    private FakeAmplitude(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyCollection<ReceivedRequest> Received => _received.ToArray();

    /// <summary>
    /// Every secret the proxy has forwarded here since the fake started (<see cref="Clear"/> keeps them): whole query
    /// strings, query values and <c>/config/</c> keys of 8 characters or more, and <c>Authorization</c> values. None may
    /// appear in the proxy's logs.
    /// </summary>
    public IReadOnlyCollection<string> SecretsSeen => _secrets.Keys.ToArray();

    /// <summary>Requests whose body the client (the proxy) abandoned before the end.</summary>
    public int AbortedRequests => Volatile.Read(ref _aborted);

    /// <summary>TCP connections to the fake that are open right now (counted by Kestrel connection middleware).</summary>
    public int OpenConnections => Volatile.Read(ref _openConnections);

    /// <summary>TCP connections the fake has accepted since it started.</summary>
    public int TotalConnections => Volatile.Read(ref _totalConnections);

    /// <summary>Keep the body bytes of requests up to this size (hash only beyond).</summary>
    public int KeepBodiesUpTo { get; set; } = 1024 * 1024;

    /// <summary>Called before the body is read; return true when it answered and the body should be left alone.</summary>
    public Func<HttpContext, Task<bool>>? BeforeBody { get; set; }

    public Func<HttpContext, ReceivedRequest, Task> Respond { get; set; } = DefaultRespond;

    public static async Task<FakeAmplitude> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        FakeAmplitude? fake = null;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.ConfigureEndpointDefaults(listen => listen.Use(next => async connection =>
            {
                Interlocked.Increment(ref fake!._totalConnections);
                Interlocked.Increment(ref fake._openConnections);
                try
                {
                    await next(connection);
                }
                finally
                {
                    Interlocked.Decrement(ref fake._openConnections);
                }
            }));
        });
        var app = builder.Build();
        fake = new FakeAmplitude(app);
        app.Run(fake.HandleAsync);
        fake.BaseAddress = await Loopback.StartAsync(app);
        return fake;
    }

    public static async Task DefaultRespond(HttpContext context, ReceivedRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(request switch
        {
            { Method: "GET" } => """{"configs":{"sessionReplay":{"sr_sampling_config":{"sample_rate":1,"capture_enabled":true}}}}""",
            { Path: "/v2.1/track" } => """{"itemsReceived":1,"itemsAccepted":1,"errors":[]}""",
            _ => """{"code":200}""",
        });
    }

    public void Clear() => _received.Clear();

    private void NoteSecrets(HttpRequest request)
    {
        const int MinLength = 8;
        if (request.QueryString.Value is { Length: > MinLength } query)
        {
            _secrets.TryAdd(query[1..], 0);
            foreach (var (_, values) in request.Query)
            {
                foreach (var value in values)
                {
                    if (value is { Length: >= MinLength })
                    {
                        _secrets.TryAdd(value, 0);
                    }
                }
            }
        }

        if (request.Path.StartsWithSegments("/config", out var rest) && rest.Value is { Length: > MinLength } key)
        {
            _secrets.TryAdd(key.TrimStart('/'), 0);
        }

        foreach (var authorization in request.Headers.Authorization)
        {
            if (authorization is { Length: >= MinLength })
            {
                _secrets.TryAdd(authorization, 0);
            }
        }
    }

    /// <summary>
    /// A <see cref="BeforeBody"/> that answers as a front end such as nginx does when it refuses a request on its headers
    /// (413, 401, 400): the status and body go out as soon as the request headers arrive, before any of the request
    /// body is read. With <paramref name="drain"/> the body is then read to the end and discarded, so the connection
    /// stays usable (nginx's lingering close does the same before it closes). Without it, the answer is written straight
    /// to the socket, which is then closed with the body unread: the sender sees a reset while it is still sending.
    /// The request is recorded with <see cref="ReceivedRequest.BodyLength"/> what was drained.
    /// </summary>
    public Func<HttpContext, Task<bool>> AnswerEarly(int status, string body, bool drain) => async context =>
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        long drained = 0;
        var completed = false;
        if (drain)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes);
            await context.Response.CompleteAsync();
            var buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    drained += read;
                }

                completed = true;
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
            {
                Interlocked.Increment(ref _aborted);
            }
        }
        else
        {
            // Past Kestrel: its own close would first read what the client still sends, and its abort drops unsent output.
            var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket
                ?? throw new InvalidOperationException("Kestrel did not expose the connection's socket.");
            var head = Encoding.ASCII.GetBytes(FormattableString.Invariant(
                $"HTTP/1.1 {status} Refused\r\nContent-Type: text/plain\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n"));
            await socket.SendAsync(head.Concat(bytes).ToArray());
            socket.Close();
            context.Abort();
        }

        _received.Enqueue(new ReceivedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? string.Empty,
            context.Request.QueryString.Value ?? string.Empty,
            context.Request.Host.Value ?? string.Empty,
            [],
            drained,
            string.Empty,
            null,
            completed));
        return true;
    };

    private async Task HandleAsync(HttpContext context)
    {
        NoteSecrets(context.Request);
        if (BeforeBody is { } before && await before(context))
        {
            return;
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in context.Request.Headers)
        {
            foreach (var value in values)
            {
                headers.Add(new(name, value ?? string.Empty));
            }
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var kept = new MemoryStream();
        var buffer = new byte[64 * 1024];
        long length = 0;
        var completed = true;
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                length += read;
                if (length <= KeepBodiesUpTo)
                {
                    kept.Write(buffer, 0, read);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            completed = false;
            Interlocked.Increment(ref _aborted);
        }

        var received = new ReceivedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? string.Empty,
            context.Request.QueryString.Value ?? string.Empty,
            context.Request.Host.Value ?? string.Empty,
            headers,
            length,
            Convert.ToHexString(hash.GetHashAndReset()),
            length <= KeepBodiesUpTo ? kept.ToArray() : null,
            completed);
        _received.Enqueue(received);
        if (completed)
        {
            await Respond(context, received);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
