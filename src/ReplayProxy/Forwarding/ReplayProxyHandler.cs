using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ReplayProxy.ConfigFallback;
using ReplayProxy.Diagnostics;
using ReplayProxy.Spool;
using Yarp.ReverseProxy.Forwarder;

namespace ReplayProxy;

/// <summary>
/// Answers one proxied request: the <see cref="AccessGate"/> decides, YARP's <see cref="IHttpForwarder"/> streams it
/// to the route's Amplitude host and back, a failure becomes one of our problem answers, and telemetry records the
/// outcome. Hosts hand every request to <see cref="HandleAsync(HttpContext)"/>; the configured route table decides
/// (404 outside it, 405 with <c>Allow</c> for another method).
/// </summary>
public sealed partial class ReplayProxyHandler
{
    private readonly AccessGate _gate;
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _upstream;
    private readonly ReplayProxySettings _settings;
    private readonly ForwarderRequestConfig _requestConfig;
    private readonly ForwarderRequestConfig _keepableRequestConfig;
    private readonly ReplayProxyTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly ConfigForwarder _config;
    private readonly UpstreamDiagnostics _diagnostics;
    private readonly OutageSpool _spool;

    internal ReplayProxyHandler(AccessGate gate, IHttpForwarder forwarder, UpstreamClient upstream, ReplayProxySettings settings, ReplayProxyTelemetry telemetry, ILogger<ReplayProxyHandler> logger, ConfigForwarder config, UpstreamDiagnostics diagnostics, OutageSpool spool)
    {
        _spool = spool;
        _config = config;
        _diagnostics = diagnostics;
        _gate = gate;
        _forwarder = forwarder;
        _upstream = upstream.Invoker;
        _settings = settings;
        // HTTP/1.1 as before YARP (its default is HTTP/2): Amplitude's hosts answer it, and one stream per connection
        // keeps a slow upload from stalling the others. The activity timeout is the idle deadline both ways.
        _requestConfig = new ForwarderRequestConfig
        {
            ActivityTimeout = settings.UpstreamTimeout,
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        // An upload the spool may keep gets an answer from Amplitude within the spool's deadline, or is kept: YARP's
        // idle deadline (pooled, no timer per request) cancels the upstream request at that point.
        _keepableRequestConfig = _requestConfig with
        {
            ActivityTimeout = spool.AnswerWithin < settings.UpstreamTimeout ? spool.AnswerWithin : settings.UpstreamTimeout,
        };
        _telemetry = telemetry;
        _logger = logger;
    }

    /// <summary>Answers one request, writing straight to <see cref="HttpContext.Response"/>.</summary>
    public Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return _settings.Routes.Match(context.Request.Path) is { } route
            ? HandleAsync(context, route)
            : ProblemResponses.WriteAsync(context, StatusCodes.Status404NotFound);
    }

    private async Task HandleAsync(HttpContext context, ReplayRoute route)
    {
        var started = Stopwatch.GetTimestamp();
        if (route.Region is { } region)
        {
            _diagnostics.NoteRegionInUse(region);
        }

        var admission = await _gate.AdmitAsync(context, route);
        var outcome = !admission.Forward ? new Outcome(admission.Status, admission.Error)
            : route.Kind == ReplayRouteKind.UpstreamHealth ? new Outcome(await _diagnostics.WriteAsync(context))
            : route.Kind == ReplayRouteKind.Config && HttpMethods.IsGet(context.Request.Method) && _config.Handles ? await ConfigAsync(context, route, admission)
            : await ForwardAsync(context, route, admission);
        _telemetry.RecordRequest(route, _settings.RegionOf(route), context.Request.Method, outcome.Status, outcome.Error, Stopwatch.GetElapsedTime(started), outcome.RequestBytes, outcome.ResponseBytes);
    }

    /// <summary>Config GETs (<see cref="ConfigForwarder.Handles"/>): the SDK's diagnostics switched off, and with the
    /// fallback on, a deadline of their own and the last good answer when Amplitude fails.</summary>
    private async Task<Outcome> ConfigAsync(HttpContext context, ReplayRoute route, Admission admission)
    {
        admission.Body?.Dispose();
        var config = await _config.ForwardAsync(context, route, admission.TrustEdge);
        return new(config.Status, config.Error, 0, config.ResponseBytes);
    }

    private async Task<Outcome> ForwardAsync(HttpContext context, ReplayRoute route, Admission admission)
    {
        using var bufferedBody = admission.Body;
        var upstream = _settings.For(route);
        using var activity = ReplayProxyTelemetry.StartForward(route, _settings.RegionOf(route), context.Request.Method, upstream);
        // An upload that may be kept through an outage: a copy of its body is taken as it streams (unless the gate
        // already holds all of it), and Amplitude gets until the spool's deadline to answer (_keepableRequestConfig).
        var keepable = _spool.Keeps(route, context.Request.Method);
        using var capture = keepable && bufferedBody is null ? _spool.CreateCapture(context.Request) : null;
        var requestBody = MeteredRequestBody.Install(context.Request, bufferedBody is null ? context.Request.Body : AsStream(bufferedBody), _settings.MaxRequestBodyBytes, capture);
        var responseBody = new MeteredResponseBody(context.Response.Body);
        context.Response.Body = responseBody;
        var transformer = new AmplitudeTransformer(_settings, route, admission.TrustEdge, bufferedBody?.WrittenCount, withholdFailures: keepable);

        var forwarded = await _forwarder.SendAsync(context, upstream.Prefix, _upstream, keepable ? _keepableRequestConfig : _requestConfig, transformer, CancellationToken.None);
        if (forwarded == ForwarderError.None && transformer.WithheldStatus is null)
        {
            activity?.SetTag(ReplayProxyTelemetry.StatusTag, context.Response.StatusCode);
            return new(context.Response.StatusCode, ProxyError.None, requestBody.BytesRead, responseBody.BytesWritten);
        }

        var error = forwarded == ForwarderError.None ? ProxyError.None
            : ForwarderErrorMapping.ToProxyError(forwarded, context.Features.Get<IForwarderErrorFeature>()?.Exception, context.RequestAborted.IsCancellationRequested);
        if (keepable && !context.Response.HasStarted && (error.IsUpstream() || transformer.WithheldStatus is not null))
        {
            var kept = await KeepAsync(context, route, admission, requestBody, capture, bufferedBody, error, transformer.WithheldStatus);
            if (kept is { } answered)
            {
                if (error.IsUpstream())
                {
                    // Amplitude failed all the same: the upstream error counter and the trace still say so.
                    _telemetry.RecordUpstreamError(route, upstream, error);
                    activity?.SetTag(ReplayProxyTelemetry.ErrorTag, error.TagValue());
                }

                activity?.SetTag(ReplayProxyTelemetry.StatusTag, answered.Status);
                activity?.SetTag(ReplayProxyTelemetry.SpooledTag, true);
                return answered with { RequestBytes = requestBody.BytesRead, ResponseBytes = responseBody.BytesWritten };
            }

            error = transformer.WithheldStatus is null ? error : ProxyError.None;
        }

        if (transformer.WithheldStatus is { } status5xx)
        {
            // Amplitude's 5xx that the spool could not keep: the client gets that status, so its own retry applies.
            activity?.SetTag(ReplayProxyTelemetry.StatusTag, status5xx);
            context.Response.Clear();
            if (admission.Origin is not null)
            {
                CorsPolicy.AddResponseHeaders(context.Response, admission.Origin);
            }

            await ProblemResponses.WriteAsync(context, status5xx, $"Amplitude answered {status5xx}.");
            return new(status5xx, ProxyError.None, requestBody.BytesRead, responseBody.BytesWritten);
        }

        if (error.IsUpstream() && !context.Response.HasStarted && context.Request.ContentLength is null && await BodyExceedsLimitAsync(requestBody, context))
        {
            // The upstream failed before the body was read; an oversize body is still the client's to fix first.
            error = ProxyError.RequestTooLarge;
        }

        var status = context.Response.HasStarted ? context.Response.StatusCode : error.StatusCode();
        Fail(activity, route, upstream, error, status);
        if (context.Response.HasStarted)
        {
            // The status line is gone; a short body must never look complete, so the connection is cut.
            context.Abort();
            return new(error.StatusCode(), error, requestBody.BytesRead, responseBody.BytesWritten);
        }

        if (error != ProxyError.ClientAborted)
        {
            await AnswerAsync(context, admission.Origin, error);
        }

        return new(status, error, requestBody.BytesRead, responseBody.BytesWritten);
    }

    /// <summary>
    /// Amplitude failed an upload before answering it: reads what is left of the body (into the copy) and keeps the
    /// upload. Null when it could not be kept (the caller answers as without a spool); else the answer given.
    /// </summary>
    private async Task<Outcome?> KeepAsync(HttpContext context, ReplayRoute route, Admission admission, MeteredRequestBody requestBody, SpoolCapture? capture, PooledBuffer? bufferedBody, ProxyError error, int? withheld)
    {
        if (!requestBody.Completed)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            idle.CancelAfter(_settings.UpstreamTimeout);
            var read = await requestBody.ReadToEndAsync(idle.Token);
            if (read != ProxyError.None)
            {
                // Too large, malformed or gone: the usual answer for that (the 413 comes from the caller's check).
                return null;
            }
        }

        var reason = withheld is { } status ? "status_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture) : error.TagValue();
        var (body, length) = bufferedBody is not null
            ? ((Stream)AsStream(bufferedBody), (long)bufferedBody.WrittenCount)
            : (capture!.OpenRead(), capture.Length);
        await using (body)
        {
            if (!await _spool.TryKeepAsync(context, route, admission.TrustEdge, body, length, reason))
            {
                return null;
            }
        }

        try
        {
            await OutageSpool.WriteKeptAsync(context, route, admission.Origin);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // Kept all the same: it will be delivered; the client may send it again (a duplicate, see the README).
            return new(ProxyErrorExtensions.ClientClosedRequest, ProxyError.ClientAborted);
        }

        return new(StatusCodes.Status200OK);
    }

    /// <summary>Reads what the client still sends, for no longer than the idle timeout.</summary>
    private async Task<bool> BodyExceedsLimitAsync(MeteredRequestBody body, HttpContext context)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(_settings.UpstreamTimeout);
        return await body.ExceedsLimitAsync(deadline.Token);
    }

    private static Task AnswerAsync(HttpContext context, string? origin, ProxyError error)
    {
        // YARP may have cleared the response, our CORS headers with it.
        context.Response.Clear();
        if (origin is not null)
        {
            CorsPolicy.AddResponseHeaders(context.Response, origin);
        }

        var detail = error switch
        {
            ProxyError.RequestTooLarge => ProblemResponses.PayloadTooLargeDetail,
            ProxyError.RequestInvalid => "The request body could not be read.",
            ProxyError.UpstreamTimeout => "Amplitude did not answer in time.",
            _ => "Amplitude could not be reached.",
        };
        return ProblemResponses.WriteAsync(context, error.StatusCode(), detail);
    }

    private void Fail(Activity? activity, ReplayRoute route, UpstreamBaseUrl upstream, ProxyError error, int status)
    {
        activity?.SetTag(ReplayProxyTelemetry.ErrorTag, error.TagValue());
        activity?.SetStatus(ActivityStatusCode.Error);
        if (error == ProxyError.ClientAborted)
        {
            LogClientAborted(_logger, route.Name);
            return;
        }

        if (error == ProxyError.RequestInvalid)
        {
            // Kestrel usually reports a client that resets mid-upload as a malformed body just before the abort
            // arrives; at Warning, every dropped mobile connection would read as a proxy failure.
            LogClientBodyInvalid(_logger, route.Name, status);
            return;
        }

        if (error.IsUpstream())
        {
            _telemetry.RecordUpstreamError(route, upstream, error);
        }

        LogForwardFailed(_logger, route.Name, upstream.Host, error.TagValue(), status);
    }

    private static MemoryStream AsStream(PooledBuffer body) =>
        MemoryMarshal.TryGetArray(body.WrittenMemory, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.WrittenMemory.ToArray(), writable: false);

    private readonly record struct Outcome(int Status, ProxyError Error = ProxyError.None, long RequestBytes = 0, long ResponseBytes = 0);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Forwarding {Route} request to {UpstreamHost} failed: {ErrorType}; answered {StatusCode}")]
    private static partial void LogForwardFailed(ILogger logger, string route, string upstreamHost, string errorType, int statusCode);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Client went away during a {Route} request")]
    private static partial void LogClientAborted(ILogger logger, string route);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "The client's {Route} request body could not be read (malformed or cut off); answered {StatusCode}")]
    private static partial void LogClientBodyInvalid(ILogger logger, string route, int statusCode);
}
