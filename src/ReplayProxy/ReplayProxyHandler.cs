using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using ReplayProxy.ConfigFallback;
using ReplayProxy.Diagnostics;

namespace ReplayProxy;

/// <summary>
/// The forwarder: checks a request against the edge, origin and key policies, then streams it to the route's
/// Amplitude host and streams the answer back. Hosts call <see cref="HandleAsync"/> with the matched route.
/// </summary>
public sealed partial class ReplayProxyHandler
{
    public const string FrontDoorIdHeader = "X-Azure-FDID";
    private const int ResponseBufferSize = 64 * 1024;
    private static readonly byte[] HealthyBody = """{"status":"healthy"}"""u8.ToArray();

    private readonly ReplayProxySettings _settings;
    private readonly HttpMessageInvoker _upstream;
    private readonly ReplayProxyTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly ConfigForwarder _config;
    private readonly UpstreamDiagnostics _diagnostics;

    internal ReplayProxyHandler(ReplayProxySettings settings, UpstreamClient upstream, ReplayProxyTelemetry telemetry, ILogger<ReplayProxyHandler> logger, ConfigForwarder config, UpstreamDiagnostics diagnostics)
    {
        _settings = settings;
        _upstream = upstream.Invoker;
        _telemetry = telemetry;
        _logger = logger;
        _config = config;
        _diagnostics = diagnostics;
    }

    /// <summary>Answers one request for <paramref name="route"/>, writing straight to <see cref="HttpContext.Response"/>.</summary>
    public async Task HandleAsync(HttpContext context, ReplayRoute route)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(route);
        var started = Stopwatch.GetTimestamp();
        var outcome = await HandleCoreAsync(context, route);
        _telemetry.RecordRequest(route, context.Request.Method, outcome.Status, outcome.Error, Stopwatch.GetElapsedTime(started), outcome.RequestBytes, outcome.ResponseBytes);
    }

    /// <summary>Answers a path outside the route table.</summary>
    public static Task NotFoundAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ProblemResponses.NotFound(context);
    }

    private async Task<Outcome> HandleCoreAsync(HttpContext context, ReplayRoute route)
    {
        var request = context.Request;
        var trustEdge = false;
        if (_settings.FrontDoorId is { } frontDoorId)
        {
            if (!FrontDoorMatches(request.Headers[FrontDoorIdHeader], frontDoorId))
            {
                return await RefuseAsync(context, route, ProxyError.FrontDoorRefused, "The request did not come through the configured Front Door.");
            }

            trustEdge = true;
        }

        var originValues = request.Headers.Origin;
        if (originValues.Count > 1)
        {
            await ProblemResponses.WriteAsync(context, StatusCodes.Status400BadRequest, "More than one Origin header.");
            return new(StatusCodes.Status400BadRequest, ProxyError.RequestInvalid);
        }

        var origin = originValues.Count == 1 ? originValues[0] : null;
        if (origin is not null && !_settings.Origins.Allows(origin))
        {
            return await RefuseAsync(context, route, ProxyError.OriginRefused, "This origin is not allowed to use the proxy.");
        }

        if (origin is not null && !HttpMethods.IsOptions(request.Method))
        {
            // Every answer to an allowed origin from here on is readable by the page, errors included (the replay
            // SDK must see a 413's body to split the batch).
            CorsPolicy.AddResponseHeaders(context.Response, origin);
        }

        if (!route.Allows(request.Method))
        {
            await ProblemResponses.MethodNotAllowed(context, route);
            return new(StatusCodes.Status405MethodNotAllowed);
        }

        if (HttpMethods.IsOptions(request.Method))
        {
            CorsPolicy.WritePreflight(context, route, origin);
            return new(StatusCodes.Status204NoContent);
        }

        if (route == ReplayRoute.UpstreamHealth)
        {
            return new(await _diagnostics.WriteAsync(context));
        }

        if (route.Upstream == UpstreamKind.None)
        {
            return await WriteHealthyAsync(context);
        }

        if (request.ContentLength > _settings.MaxRequestBodyBytes)
        {
            return await RefuseAsync(context, route, ProxyError.RequestTooLarge, ProblemResponses.PayloadTooLargeDetail);
        }

        var bodySize = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodySize is { IsReadOnly: false })
        {
            bodySize.MaxRequestBodySize = _settings.MaxRequestBodyBytes;
        }

        PooledBuffer? inspectedBody = null;
        try
        {
            if (!_settings.ApiKeys.AllowsAny)
            {
                var (refusal, body) = await CheckApiKeysAsync(context, route);
                inspectedBody = body;
                if (refusal != ProxyError.None)
                {
                    var detail = refusal switch
                    {
                        ProxyError.RequestTooLarge => ProblemResponses.PayloadTooLargeDetail,
                        ProxyError.RequestInvalid => "The analytics body must be JSON (optionally gzip) with a top-level api_key.",
                        _ => "The API key is not allowed to use this proxy.",
                    };
                    return await RefuseAsync(context, route, refusal, detail);
                }
            }

            if (route == ReplayRoute.Config && HttpMethods.IsGet(request.Method) && _config.Enabled)
            {
                var config = await _config.ForwardAsync(context, trustEdge);
                return new(config.Status, config.Error, 0, config.ResponseBytes);
            }

            return await ForwardAsync(context, route, trustEdge, inspectedBody);
        }
        finally
        {
            inspectedBody?.Dispose();
        }
    }

    private async Task<Outcome> ForwardAsync(HttpContext context, ReplayRoute route, bool trustEdge, PooledBuffer? bufferedBody)
    {
        var request = context.Request;
        var upstream = _settings.For(route.Upstream);
        using var activity = ReplayProxyTelemetry.StartForward(route, request.Method, upstream);
        using var deadline = new ForwardDeadline(context.RequestAborted, _settings.UpstreamTimeout);
        using var upstreamRequest = new HttpRequestMessage(UpstreamMethod(request.Method), upstream.Target(UpstreamPath(request, route), request.QueryString.Value))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

        StreamingRequestContent? streamed = null;
        if (bufferedBody is not null)
        {
            upstreamRequest.Content = new ReadOnlyMemoryContent(bufferedBody.WrittenMemory);
        }
        else if (HasBody(context))
        {
            upstreamRequest.Content = streamed = new StreamingRequestContent(request, _settings.MaxRequestBodyBytes, deadline);
        }

        CopyRequestHeaders(request, upstreamRequest);
        if (ClientAddress.Resolve(context, trustEdge) is { } clientIp)
        {
            upstreamRequest.Headers.TryAddWithoutValidation(ClientAddress.ForwardedForHeader, clientIp);
        }

        foreach (var (name, value) in _settings.ExtraUpstreamHeaders)
        {
            upstreamRequest.Headers.Remove(name);
            upstreamRequest.Headers.TryAddWithoutValidation(name, value);
        }

        long RequestBytes() => streamed?.BytesSent ?? bufferedBody?.WrittenCount ?? 0;

        HttpResponseMessage upstreamResponse;
        try
        {
            upstreamResponse = await _upstream.SendAsync(upstreamRequest, deadline.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or InvalidOperationException)
        {
            var error = Classify(ex, deadline);
            var outcome = new Outcome(error.StatusCode(), error, RequestBytes());
            Fail(activity, route, upstream, error, outcome.Status);
            if (error == ProxyError.ClientAborted)
            {
                return outcome;
            }

            var detail = error switch
            {
                ProxyError.RequestTooLarge => ProblemResponses.PayloadTooLargeDetail,
                ProxyError.RequestInvalid => "The request body could not be read.",
                ProxyError.UpstreamTimeout => "Amplitude did not answer in time.",
                _ => "Amplitude could not be reached.",
            };
            await ProblemResponses.WriteAsync(context, outcome.Status, detail);
            return outcome;
        }

        using (upstreamResponse)
        {
            var status = (int)upstreamResponse.StatusCode;
            activity?.SetTag(ReplayProxyTelemetry.StatusTag, status);
            var response = context.Response;
            response.StatusCode = status;
            CopyResponseHeaders(upstreamResponse, response);

            long responseBytes = 0;
            var buffer = ArrayPool<byte>.Shared.Rent(ResponseBufferSize);
            try
            {
                deadline.Extend();
                await using var body = await upstreamResponse.Content.ReadAsStreamAsync(deadline.Token);
                int read;
                while ((read = await body.ReadAsync(buffer.AsMemory(0, ResponseBufferSize), deadline.Token)) > 0)
                {
                    deadline.Extend();
                    await response.Body.WriteAsync(buffer.AsMemory(0, read), deadline.Token);
                    responseBytes += read;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or InvalidOperationException)
            {
                // The status line is gone; a short body must never look complete, so the connection is cut.
                var error = deadline.ClientAborted ? ProxyError.ClientAborted : ProxyError.UpstreamResponseAborted;
                Fail(activity, route, upstream, error, status);
                context.Abort();
                return new(error.StatusCode(), error, RequestBytes(), responseBytes);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return new(status, ProxyError.None, RequestBytes(), responseBytes);
        }
    }

    private void Fail(Activity? activity, ReplayRoute route, UpstreamBase upstream, ProxyError error, int status)
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

    private async Task<Outcome> RefuseAsync(HttpContext context, ReplayRoute route, ProxyError error, string detail)
    {
        var status = error.StatusCode();
        LogRefused(_logger, route.Name, error.TagValue(), status);
        await ProblemResponses.WriteAsync(context, status, detail);
        return new(status, error);
    }

    private async Task<(ProxyError Refusal, PooledBuffer? Body)> CheckApiKeysAsync(HttpContext context, ReplayRoute route)
    {
        var request = context.Request;
        var keys = new List<string>(2);
        if (!ApiKeys.TryCollectFromRequest(request, route, keys))
        {
            return (ProxyError.ApiKeyRefused, null);
        }

        PooledBuffer? body = null;
        if (route.Upstream == UpstreamKind.Analytics)
        {
            body = new PooledBuffer((int)Math.Min(request.ContentLength ?? 4096, _settings.MaxRequestBodyBytes) + 1);
            var error = await ReadBodyAsync(request, body, context.RequestAborted);
            if (error == ProxyError.None && !ApiKeys.TryCollectFromAnalyticsBody(body.WrittenMemory, request.Headers.ContentEncoding.ToString(), _settings.MaxRequestBodyBytes, keys))
            {
                error = ProxyError.RequestInvalid;
            }

            if (error != ProxyError.None)
            {
                return (error, body);
            }
        }

        var allowed = keys.Count > 0 && keys.TrueForAll(_settings.ApiKeys.Allows);
        return (allowed ? ProxyError.None : ProxyError.ApiKeyRefused, body);
    }

    /// <summary>Buffers a body that has to be inspected (analytics, with a key allow-list); bounded by the body limit.</summary>
    private async Task<ProxyError> ReadBodyAsync(HttpRequest request, PooledBuffer body, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(body.GetMemory(16 * 1024), cancellationToken);
                if (read == 0)
                {
                    return ProxyError.None;
                }

                body.Advance(read);
                if (body.WrittenCount > _settings.MaxRequestBodyBytes)
                {
                    return ProxyError.RequestTooLarge;
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            return ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? ProxyError.RequestTooLarge : ProxyError.RequestInvalid;
        }
    }

    private static ProxyError Classify(Exception exception, ForwardDeadline deadline)
    {
        if (deadline.ClientAborted)
        {
            return ProxyError.ClientAborted;
        }

        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is ClientBodyException clientBody)
            {
                return clientBody.InnerException switch
                {
                    RequestBodyTooLargeException => ProxyError.RequestTooLarge,
                    BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => ProxyError.RequestTooLarge,
                    BadHttpRequestException => ProxyError.RequestInvalid,
                    ConnectionResetException => ProxyError.ClientAborted,
                    // Kestrel reports some malformed bodies as a plain IOException (a chunk size that overflows:
                    // "Bad chunk size data."). The client is still there and must get an answer: treating it as gone
                    // would leave Kestrel to send an empty 200 for a request that was never delivered.
                    _ => ProxyError.RequestInvalid,
                };
            }
        }

        if (deadline.TimedOut)
        {
            return ProxyError.UpstreamTimeout;
        }

        return exception is HttpRequestException http
            ? http.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => ProxyError.UpstreamDns,
                HttpRequestError.ConnectionError => ProxyError.UpstreamConnect,
                HttpRequestError.SecureConnectionError => ProxyError.UpstreamTls,
                _ => ProxyError.UpstreamProtocol,
            }
            : ProxyError.UpstreamProtocol;
    }

    private static async Task<Outcome> WriteHealthyAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        response.ContentLength = HealthyBody.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(HealthyBody);
        }

        return new(StatusCodes.Status200OK);
    }

    private static bool FrontDoorMatches(StringValues values, Guid expected) =>
        values.Count == 1 && Guid.TryParse(values[0], out var actual) && actual == expected;

    private static bool HasBody(HttpContext context) =>
        context.Request.ContentLength is not null
        || (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? false);

    /// <summary>Fixed routes go to their canonical path; config keeps what follows <c>/config</c>, escaped again.
    /// Either way the path is one the route matched, appended to the configured upstream base.</summary>
    private static string UpstreamPath(HttpRequest request, ReplayRoute route)
    {
        if (route != ReplayRoute.Config)
        {
            return "/" + route.Templates[0];
        }

        var path = request.Path.ToUriComponent();
        return "/" + ReplayRoutes.Config + path[(1 + ReplayRoutes.Config.Length)..];
    }

    private static HttpMethod UpstreamMethod(string method) => method switch
    {
        _ when HttpMethods.IsPost(method) => HttpMethod.Post,
        _ when HttpMethods.IsGet(method) => HttpMethod.Get,
        _ when HttpMethods.IsHead(method) => HttpMethod.Head,
        _ => new HttpMethod(method),
    };

    private static void CopyRequestHeaders(HttpRequest request, HttpRequestMessage upstreamRequest)
    {
        var connection = request.Headers.Connection;
        foreach (var (name, values) in request.Headers)
        {
            if (!HeaderPolicy.ForwardRequestHeader(name, connection))
            {
                continue;
            }

            // The single-value overload avoids boxing StringValues into an enumerable (most headers have one value).
            var added = values.Count == 1
                ? upstreamRequest.Headers.TryAddWithoutValidation(name, values[0])
                : upstreamRequest.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            if (!added && upstreamRequest.Content is { } content)
            {
                _ = values.Count == 1
                    ? content.Headers.TryAddWithoutValidation(name, values[0])
                    : content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
    }

    private static void CopyResponseHeaders(HttpResponseMessage upstreamResponse, HttpResponse response)
    {
        var connection = upstreamResponse.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var tokens)
            ? new StringValues(tokens.ToArray())
            : StringValues.Empty;
        CopyHeaders(upstreamResponse.Headers.NonValidated, response, connection);
        CopyHeaders(upstreamResponse.Content.Headers.NonValidated, response, connection);
    }

    private static void CopyHeaders(HttpHeadersNonValidated source, HttpResponse response, StringValues connection)
    {
        foreach (var (name, values) in source)
        {
            if (!HeaderPolicy.ForwardResponseHeader(name, connection))
            {
                continue;
            }

            if (name.Equals(HeaderNames.Vary, StringComparison.OrdinalIgnoreCase))
            {
                // Ours (Vary: Origin) may already be there.
                response.Headers.Append(name, values.ToArray());
                continue;
            }

            response.Headers[name] = values.Count == 1 ? new StringValues(values.ToString()) : new StringValues(values.ToArray());
        }
    }

    private readonly record struct Outcome(int Status, ProxyError Error = ProxyError.None, long RequestBytes = 0, long ResponseBytes = 0);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Refused {Route} request: {Reason}; answered {StatusCode}")]
    private static partial void LogRefused(ILogger logger, string route, string reason, int statusCode);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Forwarding {Route} request to {UpstreamHost} failed: {ErrorType}; answered {StatusCode}")]
    private static partial void LogForwardFailed(ILogger logger, string route, string upstreamHost, string errorType, int statusCode);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Client went away during a {Route} request")]
    private static partial void LogClientAborted(ILogger logger, string route);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "The client's {Route} request body could not be read (malformed or cut off); answered {StatusCode}")]
    private static partial void LogClientBodyInvalid(ILogger logger, string route, int statusCode);
}
