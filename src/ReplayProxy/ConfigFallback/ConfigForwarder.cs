using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ReplayProxy.ConfigFallback;

/// <summary>How a config GET ended, for the handler's request telemetry.</summary>
internal readonly record struct ConfigOutcome(int Status, ProxyError Error = ProxyError.None, long ResponseBytes = 0);

/// <summary>
/// Config GETs within the browser SDK's budget (1 s per attempt, and no replay capture for the page load when config
/// fails): the request goes to Amplitude as usual, and when Amplitude fails (connect, DNS, TLS, 5xx, 429) or has not
/// answered by <see cref="ReplayProxyOptions.ConfigDeadlineMilliseconds"/>, the last good answer for the same path
/// and query is served instead, marked stale, if it is younger than the stale limit. Amplitude's answer, however
/// late, still refreshes the memory. An answer that arrives in time is always relayed, never one from memory.
/// </summary>
internal sealed partial class ConfigForwarder
{
    public const int MaxRememberedBytes = 64 * 1024;
    public const string StaleHeader = "X-Replay-Proxy-Stale";
    internal const string StaleTag = "replay_proxy.config.stale";
    private const int RelayBufferSize = 16 * 1024;

    private readonly ReplayProxySettings _settings;
    private readonly HttpMessageInvoker _upstream;
    private readonly ReplayProxyTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly TimeSpan _deadline;
    private readonly TimeSpan _staleLimit;

    /// <summary>Fetches that passed their deadline and still wait for Amplitude, by path and query.</summary>
    private readonly ConcurrentDictionary<string, Task<UpstreamAnswer>> _overdue = new(StringComparer.Ordinal);

    public ConfigForwarder(IOptions<ReplayProxyOptions> options, ReplayProxySettings settings, UpstreamClient upstream, ReplayProxyTelemetry telemetry, TimeProvider time, ILogger<ConfigForwarder> logger)
    {
        var value = options.Value;
        _settings = settings;
        _upstream = upstream.Invoker;
        _telemetry = telemetry;
        _logger = logger;
        _deadline = TimeSpan.FromMilliseconds(value.ConfigDeadlineMilliseconds);
        _staleLimit = TimeSpan.FromSeconds(value.ConfigStaleLimitSeconds);
        Memory = new ConfigMemory(value.ConfigMemoryEntries, time);
    }

    /// <summary>Off when the stale limit is 0: config GETs then take the ordinary forwarding path.</summary>
    public bool Enabled => _staleLimit > TimeSpan.Zero;

    internal ConfigMemory Memory { get; }

    public async Task<ConfigOutcome> ForwardAsync(HttpContext context, ReplayRoute route, bool trustEdge)
    {
        var request = context.Request;
        // The region prefix is part of the key: the two regions' answers for one key are not interchangeable.
        var key = route.PathPrefix + route.UpstreamPath(request) + request.QueryString.Value;
        var upstream = _settings.For(route);
        using var activity = ReplayProxyTelemetry.StartForward(route, _settings.RegionOf(route), request.Method, upstream);

        if (_overdue.TryGetValue(key, out var overdue) && !overdue.IsCompleted && Recall(key, request) is { } known)
        {
            // Amplitude has let an earlier fetch of this config pass its deadline and still not answered: a second
            // wait would spend most of the SDK's 1.5 s on the same outage. That fetch still refreshes the memory.
            LogOverdueServedStale(_logger, upstream.Host, AgeSeconds(known));
            return await WriteRememberedAsync(context, known, activity);
        }

        // Everything the fetch needs from the request is read here: it may outlive the request.
        var fetch = FetchAsync(ConfigUpstreamMessages.CreateRequest(context, route, _settings, trustEdge), key, MayRemember(request, route));
        await Task.WhenAny(fetch, Task.Delay(_deadline, context.RequestAborted));
        if (!fetch.IsCompleted)
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                return ClientGone(fetch, activity);
            }

            if (Recall(key, request) is { } remembered)
            {
                LogDeadlineServedStale(_logger, upstream.Host, (long)_deadline.TotalMilliseconds, AgeSeconds(remembered));
                _overdue[key] = fetch;
                _ = fetch.ContinueWith(done => _overdue.TryRemove(KeyValuePair.Create(key, done)), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                ReleaseWhenDone(fetch);
                return await WriteRememberedAsync(context, remembered, activity);
            }
        }

        UpstreamAnswer answer;
        try
        {
            // Nothing to fall back on: wait as long as any other request would.
            answer = await fetch.WaitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            return ClientGone(fetch, activity);
        }

        using (answer)
        {
            if (answer.Error != ProxyError.None)
            {
                Fail(activity, upstream, answer.Error);
                if (Recall(key, request) is { } remembered)
                {
                    LogFailureServedStale(_logger, upstream.Host, answer.Error.TagValue(), AgeSeconds(remembered));
                    return await WriteRememberedAsync(context, remembered, activity);
                }

                var status = answer.Error.StatusCode();
                LogForwardFailed(_logger, upstream.Host, answer.Error.TagValue(), answer.Response is { } started ? (int)started.StatusCode : status);
                if (answer.Response is not null)
                {
                    // The body broke after the status line: relayed as far as it came, then cut, exactly as without
                    // the fallback, so a short body never looks complete.
                    var partial = await RelayAsync(context, answer, upstream, activity);
                    context.Abort();
                    return new(status, answer.Error, partial.ResponseBytes);
                }

                await ProblemResponses.WriteAsync(context, status, answer.Error == ProxyError.UpstreamTimeout ? "Amplitude did not answer in time." : "Amplitude could not be reached.");
                return new(status, answer.Error);
            }

            var upstreamStatus = (int)answer.Response!.StatusCode;
            activity?.SetTag(ReplayProxyTelemetry.StatusTag, upstreamStatus);
            if (IsUpstreamTrouble(upstreamStatus) && Recall(key, request) is { } fallback)
            {
                LogStatusServedStale(_logger, upstream.Host, upstreamStatus, AgeSeconds(fallback));
                return await WriteRememberedAsync(context, fallback, activity);
            }

            return await RelayAsync(context, answer, upstream, activity);
        }
    }

    private async Task<UpstreamAnswer> FetchAsync(HttpRequestMessage message, string key, bool mayRemember)
    {
        var answer = new UpstreamAnswer(_settings.UpstreamTimeout);
        using (message)
        {
            try
            {
                var response = answer.Response = await _upstream.SendAsync(message, answer.Timeout.Token);
                var body = await response.Content.ReadAsStreamAsync(answer.Timeout.Token);
                await answer.BufferAsync(body, MaxRememberedBytes + 1);
                var status = (int)response.StatusCode;
                if (status == StatusCodes.Status200OK && mayRemember && answer.Complete && IsRememberable(response, answer.Buffered.Span))
                {
                    Memory.Remember(key, answer.Buffered.ToArray(), response.Content.Headers.ContentType?.ToString(), ContentEncoding(response));
                }
                else if (status is >= 400 and < 500 && status != StatusCodes.Status429TooManyRequests)
                {
                    // Amplitude refused this key or query: what was remembered for it no longer stands.
                    Memory.Forget(key);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                answer.Error = answer.Response is null ? Classify(ex, answer.Timeout) : ProxyError.UpstreamResponseAborted;
            }
        }

        return answer;
    }

    private static bool IsRememberable(HttpResponseMessage response, ReadOnlySpan<byte> body)
    {
        var encoding = ContentEncoding(response);
        return body.Length <= MaxRememberedBytes
            && ConfigBody.IsKnownEncoding(encoding)
            && ConfigBody.HasConfigsObject(body, encoding, MaxRememberedBytes);
    }

    private static string? ContentEncoding(HttpResponseMessage response) =>
        response.Content.Headers.NonValidated.TryGetValues(HeaderNames.ContentEncoding, out var values) ? values.ToString() : null;

    private bool MayRemember(HttpRequest request, ReplayRoute route) =>
        _settings.ApiKeys.AllowsAny || (ApiKeys.ConfigKey(route.AmplitudePathOf(request.Path)) is { } key && _settings.ApiKeys.Allows(key));

    private static bool IsUpstreamTrouble(int status) => status >= 500 || status == StatusCodes.Status429TooManyRequests;

    private RememberedConfig? Recall(string key, HttpRequest request) =>
        Memory.Recall(key, _staleLimit) is { } remembered && Accepts(request.Headers.AcceptEncoding, remembered.ContentEncoding)
            ? remembered
            : null;

    /// <summary>A remembered compressed body goes only to a client that accepts its coding.</summary>
    internal static bool Accepts(StringValues acceptEncoding, string? contentEncoding)
    {
        if (string.IsNullOrEmpty(contentEncoding) || contentEncoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var value in acceptEncoding)
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var semicolon = part.IndexOf(';', StringComparison.Ordinal);
                var coding = semicolon < 0 ? part : part[..semicolon].TrimEnd();
                var refused = semicolon >= 0 && part[(semicolon + 1)..].Replace(" ", string.Empty, StringComparison.Ordinal) is "q=0" or "q=0.0" or "q=0.00" or "q=0.000";
                if (!refused && (coding == "*" || coding.Equals(contentEncoding, StringComparison.OrdinalIgnoreCase)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private async Task<ConfigOutcome> WriteRememberedAsync(HttpContext context, RememberedConfig remembered, Activity? activity)
    {
        activity?.SetTag(StaleTag, true);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = remembered.ContentType ?? "application/json";
        if (remembered.ContentEncoding is { } encoding && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            response.Headers.ContentEncoding = encoding;
        }

        // Stale by design: no cache may keep it past the outage.
        response.Headers.CacheControl = "no-store";
        response.Headers.Age = AgeSeconds(remembered).ToString(CultureInfo.InvariantCulture);
        response.Headers[StaleHeader] = "true";
        response.ContentLength = remembered.Body.Length;
        try
        {
            await response.Body.WriteAsync(remembered.Body, context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return new(ProxyErrorExtensions.ClientClosedRequest, ProxyError.ClientAborted);
        }

        return new(StatusCodes.Status200OK, ProxyError.None, remembered.Body.Length);
    }

    private async Task<ConfigOutcome> RelayAsync(HttpContext context, UpstreamAnswer answer, UpstreamBaseUrl upstreamBase, Activity? activity)
    {
        var upstream = answer.Response!;
        var status = (int)upstream.StatusCode;
        var response = context.Response;
        response.StatusCode = status;
        AmplitudeTransformer.CopyResponseHeaders(upstream, response);
        long written = 0;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        try
        {
            await response.Body.WriteAsync(answer.Buffered, context.RequestAborted);
            written += answer.Buffered.Length;
            if (answer.Rest is { } rest)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(RelayBufferSize);
                try
                {
                    int read;
                    idle.CancelAfter(_settings.UpstreamTimeout);
                    while ((read = await rest.ReadAsync(buffer.AsMemory(0, RelayBufferSize), idle.Token)) > 0)
                    {
                        await response.Body.WriteAsync(buffer.AsMemory(0, read), idle.Token);
                        written += read;
                        idle.CancelAfter(_settings.UpstreamTimeout);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // The status line is gone; a short body must never look complete, so the connection is cut.
            var error = context.RequestAborted.IsCancellationRequested ? ProxyError.ClientAborted : ProxyError.UpstreamResponseAborted;
            Fail(activity, upstreamBase, error);
            context.Abort();
            return new(error.StatusCode(), error, written);
        }

        return new(status, ProxyError.None, written);
    }

    private ConfigOutcome ClientGone(Task<UpstreamAnswer> fetch, Activity? activity)
    {
        activity?.SetTag(ReplayProxyTelemetry.ErrorTag, ProxyError.ClientAborted.TagValue());
        LogClientAborted(_logger);
        ReleaseWhenDone(fetch);
        return new(ProxyErrorExtensions.ClientClosedRequest, ProxyError.ClientAborted);
    }

    /// <summary>The fetch goes on without a client (bounded by the upstream timeout) so that a late answer still
    /// refreshes the memory; its resources go when it ends.</summary>
    private static void ReleaseWhenDone(Task<UpstreamAnswer> fetch) =>
        _ = fetch.ContinueWith(static done => done.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private void Fail(Activity? activity, UpstreamBaseUrl upstream, ProxyError error)
    {
        activity?.SetTag(ReplayProxyTelemetry.ErrorTag, error.TagValue());
        activity?.SetStatus(ActivityStatusCode.Error);
        if (error.IsUpstream())
        {
            _telemetry.RecordUpstreamError(ReplayRoute.Config, upstream, error);
        }
    }

    private long AgeSeconds(RememberedConfig remembered) => (long)Memory.AgeOf(remembered).TotalSeconds;

    private static ProxyError Classify(Exception exception, CancellationTokenSource timeout)
    {
        if (timeout.IsCancellationRequested)
        {
            return ProxyError.UpstreamTimeout;
        }

        return ForwarderErrorMapping.ForSendFailure(exception as HttpRequestException);
    }

    /// <summary>Amplitude's answer to one fetch: an error, or the response with its first bytes read.</summary>
    private sealed class UpstreamAnswer(TimeSpan timeout) : IDisposable
    {
        private byte[]? _buffer;
        private int _length;

        public CancellationTokenSource Timeout { get; } = new(timeout);

        public ProxyError Error { get; set; }

        public HttpResponseMessage? Response { get; set; }

        /// <summary>The body's first bytes; all of it when <see cref="Complete"/>.</summary>
        public ReadOnlyMemory<byte> Buffered => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, _length);

        public bool Complete => Rest is null;

        /// <summary>The unread remainder of a body longer than the buffer.</summary>
        public Stream? Rest { get; private set; }

        public async Task BufferAsync(Stream body, int limit)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(limit);
            int read;
            while (_length < limit && (read = await body.ReadAsync(_buffer.AsMemory(_length, limit - _length), Timeout.Token)) > 0)
            {
                _length += read;
            }

            if (_length < limit)
            {
                await body.DisposeAsync();
            }
            else
            {
                Rest = body;
            }
        }

        public void Dispose()
        {
            Rest?.Dispose();
            Response?.Dispose();
            Timeout.Dispose();
            if (_buffer is { } buffer)
            {
                _buffer = null;
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Config request to {UpstreamHost} not answered within {DeadlineMilliseconds} ms; answered from memory ({AgeSeconds} s old)")]
    private static partial void LogDeadlineServedStale(ILogger logger, string upstreamHost, long deadlineMilliseconds, long ageSeconds);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Config request to {UpstreamHost} failed: {ErrorType}; answered from memory ({AgeSeconds} s old)")]
    private static partial void LogFailureServedStale(ILogger logger, string upstreamHost, string errorType, long ageSeconds);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Config request to {UpstreamHost} answered {UpstreamStatus}; answered from memory ({AgeSeconds} s old)")]
    private static partial void LogStatusServedStale(ILogger logger, string upstreamHost, int upstreamStatus, long ageSeconds);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "Forwarding config request to {UpstreamHost} failed: {ErrorType}; nothing remembered, answered {StatusCode}")]
    private static partial void LogForwardFailed(ILogger logger, string upstreamHost, string errorType, int statusCode);

    [LoggerMessage(EventId = 25, Level = LogLevel.Warning, Message = "Config request to {UpstreamHost} still overdue; answered from memory at once ({AgeSeconds} s old)")]
    private static partial void LogOverdueServedStale(ILogger logger, string upstreamHost, long ageSeconds);

    [LoggerMessage(EventId = 24, Level = LogLevel.Debug, Message = "Client went away during a config request")]
    private static partial void LogClientAborted(ILogger logger);
}
