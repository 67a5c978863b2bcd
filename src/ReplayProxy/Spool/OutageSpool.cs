using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ReplayProxy.Spool;

/// <summary>Makes the Blob store; registered by the Functions app, which carries the Azure SDK.</summary>
internal interface IBlobSpoolStoreFactory
{
    ISpoolStore Create(SpoolOptions options);
}

/// <summary>
/// Keeping uploads through an Amplitude outage: which requests may be kept, keeping one (durably, within the bounds)
/// and answering the client for it, and the spool's counters and gauges. <see cref="SpoolDelivery"/> sends what is
/// kept once Amplitude answers again.
/// </summary>
internal sealed partial class OutageSpool : IAsyncDisposable
{
    public const string SpooledHeader = "X-Replay-Proxy-Spooled";
    internal const string ReasonTag = "replay_proxy.spool.reason";
    private static readonly byte[] KeptBody = """{"code":200}"""u8.ToArray();

    /// <summary>Amplitude's answer to a form upload: Amplitude-iOS 8.x removes its events only on a 200 whose body is
    /// exactly <c>success</c> (<c>Amplitude.m</c>, <c>makeEventUploadPostRequest</c>); anything else is retried.</summary>
    private static readonly byte[] KeptFormBody = "success"u8.ToArray();

    private readonly ReplayProxySettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Counter<long> _kept;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _dropped;
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OutageSpool(IOptions<ReplayProxyOptions> options, ReplayProxySettings settings, TimeProvider time, IMeterFactory meters, ILogger<OutageSpool> logger, IBlobSpoolStoreFactory? blob = null)
    {
        var spool = options.Value.Spool;
        _settings = settings;
        _time = time;
        _logger = logger;
        Options = spool;
        AnswerWithin = TimeSpan.FromMilliseconds(spool.AnswerWithinMilliseconds);
        MaxAge = TimeSpan.FromSeconds(spool.MaxAgeSeconds);
        RetryMax = TimeSpan.FromSeconds(spool.RetryMaxSeconds);
        if (spool.UsesDirectory)
        {
            Store = new FileSpoolStore(spool.Directory!, spool.MaxBytes);
        }
        else if (spool.UsesBlob)
        {
            Store = blob?.Create(spool) ?? throw new InvalidOperationException(
                $"{ReplayProxyOptions.SectionName}:Spool:BlobServiceUri and BlobConnectionString are read by the Functions app only; the standalone host keeps uploads in {ReplayProxyOptions.SectionName}:Spool:Directory.");
        }

        var meter = meters.Create(ReplayProxyTelemetry.MeterName);
        _kept = meter.CreateCounter<long>("replay_proxy.spool.kept", "{upload}", "Uploads kept through an Amplitude failure and acknowledged, by route and reason.");
        _refused = meter.CreateCounter<long>("replay_proxy.spool.refused", "{upload}", "Uploads that could not be kept (spool full or failing); the client got Amplitude's or our error.");
        _delivered = meter.CreateCounter<long>("replay_proxy.spool.delivered", "{upload}", "Kept uploads Amplitude accepted.");
        _dropped = meter.CreateCounter<long>("replay_proxy.spool.dropped", "{upload}", "Kept uploads given up, by reason (expired, rejected, unreadable).");
        if (Store is { } store)
        {
            meter.CreateObservableGauge("replay_proxy.spool.depth", () => store.Stats.Depth, "{upload}", "Kept uploads waiting for Amplitude.");
            meter.CreateObservableGauge("replay_proxy.spool.size", () => store.Stats.Bytes, "By", "Bytes the spool holds.");
            meter.CreateObservableGauge("replay_proxy.spool.oldest.age", () => OldestAge(store.Stats)?.TotalSeconds ?? 0, "s", "Age of the oldest kept upload.");
        }
    }

    public SpoolOptions Options { get; }

    public ISpoolStore? Store { get; }

    public bool Enabled => Store is not null;

    public TimeSpan AnswerWithin { get; }

    public TimeSpan MaxAge { get; }

    public TimeSpan RetryMax { get; }

    /// <summary>Completes when an upload is kept (the delivery loop's wake-up).</summary>
    internal Task Added => Volatile.Read(ref _added).Task;

    /// <summary>Only uploads are kept: POST to a replay or analytics route (whatever its name or path).</summary>
    public bool Keeps(ReplayRoute route, string method) =>
        Store is not null && HttpMethods.IsPost(method) && route.IsUpload;

    /// <summary>Amplitude's answers that mean "not now" rather than "never": kept. 429 is not among them (Amplitude
    /// asks the client to slow down, and the client must hear it).</summary>
    public static bool KeepsStatus(int status) => status is 500 or 502 or 503 or 504;

    public SpoolCapture CreateCapture(HttpRequest request) => new(Store!.SpillDirectory, request.ContentLength);

    public TimeSpan? OldestAge(SpoolStats stats) => stats.Oldest is { } oldest ? _time.GetUtcNow() - oldest : null;

    /// <summary>Keeps the upload; true once it is durable, false when the spool is full or failing (logged, counted).</summary>
    public async Task<bool> TryKeepAsync(HttpContext context, ReplayRoute route, bool trustEdge, Stream body, long bodyLength, string reason)
    {
        var request = SpooledRequest.From(context, route, _settings, trustEdge, _time.GetUtcNow());
        bool kept;
        try
        {
            kept = await Store!.TryAddAsync(request, body, bodyLength, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _refused.Add(1, new TagList { { ReplayProxyTelemetry.RouteTag, request.Route }, { ReasonTag, "store_error" } });
            LogStoreFailed(_logger, request.Route, Store!.Kind, ex.GetType().Name, ex);
            return false;
        }

        if (!kept)
        {
            _refused.Add(1, new TagList { { ReplayProxyTelemetry.RouteTag, request.Route }, { ReasonTag, "full" } });
            LogFull(_logger, request.Route, Options.MaxBytes);
            return false;
        }

        _kept.Add(1, new TagList { { ReplayProxyTelemetry.RouteTag, request.Route }, { ReasonTag, reason } });
        LogKept(_logger, request.Route, reason);
        Interlocked.Exchange(ref _added, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return true;
    }

    /// <summary>The answer for an upload that was kept: 200, <c>X-Replay-Proxy-Spooled: true</c>, and the body the
    /// route's SDK reads as success: JSON with <c>"code": 200</c> for the JSON routes (the analytics SDK reads
    /// <c>code</c>), <c>success</c> for the form route.</summary>
    public static Task WriteKeptAsync(HttpContext context, ReplayRoute route, string? origin)
    {
        var response = context.Response;
        response.Clear();
        if (origin is not null)
        {
            CorsPolicy.AddResponseHeaders(response, origin);
        }

        response.StatusCode = StatusCodes.Status200OK;
        var form = route.Kind == ReplayRouteKind.Legacy;
        var body = form ? KeptFormBody : KeptBody;
        response.ContentType = form ? "text/plain; charset=utf-8" : "application/json";
        response.Headers.CacheControl = "no-store";
        response.Headers[SpooledHeader] = "true";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    internal void RecordDelivered(string route) => _delivered.Add(1, new TagList { { ReplayProxyTelemetry.RouteTag, route } });

    internal void RecordDropped(string route, string reason) =>
        _dropped.Add(1, new TagList { { ReplayProxyTelemetry.RouteTag, route }, { ReasonTag, reason } });

    public ValueTask DisposeAsync() => Store?.DisposeAsync() ?? ValueTask.CompletedTask;

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Kept a {Route} upload for later delivery: {Reason}")]
    private static partial void LogKept(ILogger logger, string route, string reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Error, Message = "Could not keep a {Route} upload: the spool is full ({MaxBytes} bytes); the client gets the upstream error")]
    private static partial void LogFull(ILogger logger, string route, long maxBytes);

    [LoggerMessage(EventId = 42, Level = LogLevel.Error, Message = "Could not keep a {Route} upload: the {Store} store failed ({ExceptionType}); the client gets the upstream error")]
    private static partial void LogStoreFailed(ILogger logger, string route, string store, string exceptionType, Exception exception);
}
