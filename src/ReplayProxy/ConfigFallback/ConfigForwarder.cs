using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ReplayProxy.ConfigFallback;

/// <summary>How a config GET ended, for the handler's request telemetry.</summary>
internal readonly record struct ConfigOutcome(int Status, ProxyError Error = ProxyError.None, long ResponseBytes = 0);

/// <summary>
/// Config GETs: the fetch from Amplitude (<see cref="ConfigFetcher"/>, which also switches the SDK's diagnostics off),
/// the relay of its answer (<see cref="ConfigRelay"/>), and, within the browser SDK's budget (1 s per attempt, and no
/// replay capture for the page load when config fails), the answer from memory (<see cref="StaleConfig"/>): when
/// Amplitude fails (connect, DNS, TLS, 5xx, 429) or has not answered by
/// <see cref="ReplayProxyOptions.ConfigDeadlineMilliseconds"/>, the last good answer for the same path and query is
/// served instead, marked stale, if it is younger than the stale limit. Amplitude's answer, however late, still
/// refreshes the memory. An answer that arrives in time is always relayed, never one from memory.
/// </summary>
internal sealed partial class ConfigForwarder
{
    private readonly ReplayProxySettings _settings;
    private readonly ReplayProxyTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly TimeSpan _deadline;
    private readonly bool _rewriteDiagnostics;
    private readonly ConfigFetcher _fetcher;
    private readonly StaleConfig _stale;

    /// <summary>Fetches that passed their deadline and still wait for Amplitude, by path and query.</summary>
    private readonly ConcurrentDictionary<string, Task<ConfigUpstreamAnswer>> _overdue = new(StringComparer.Ordinal);

    public ConfigForwarder(IOptions<ReplayProxyOptions> options, ReplayProxySettings settings, UpstreamClient upstream, ReplayProxyTelemetry telemetry, TimeProvider time, ILogger<ConfigForwarder> logger)
    {
        var value = options.Value;
        _settings = settings;
        _telemetry = telemetry;
        _logger = logger;
        _deadline = TimeSpan.FromMilliseconds(value.ConfigDeadlineMilliseconds);
        _rewriteDiagnostics = !value.AllowSdkDiagnostics;
        var memory = new ConfigMemory(value.ConfigMemoryEntries, time);
        _fetcher = new ConfigFetcher(upstream.Invoker, settings, memory, _rewriteDiagnostics);
        _stale = new StaleConfig(memory, TimeSpan.FromSeconds(value.ConfigStaleLimitSeconds));
    }

    /// <summary>Whether config GETs come here: with the fallback on, or to switch the SDK's diagnostics off. Otherwise
    /// (and for HEAD) they take the ordinary forwarding path.</summary>
    public bool Handles => _stale.Enabled || _rewriteDiagnostics;

    internal ConfigMemory Memory => _stale.Memory;

    public async Task<ConfigOutcome> ForwardAsync(HttpContext context, ReplayRoute route, bool trustEdge)
    {
        var request = context.Request;
        // The region prefix is part of the key: the two regions' answers for one key are not interchangeable.
        var key = route.PathPrefix + route.UpstreamPath(request) + request.QueryString.Value;
        var upstream = _settings.For(route);
        using var activity = ReplayProxyTelemetry.StartForward(route, _settings.RegionOf(route), request.Method, upstream);

        if (_overdue.TryGetValue(key, out var overdue) && !overdue.IsCompleted && _stale.Recall(key, request) is { } known)
        {
            // Amplitude has let an earlier fetch of this config pass its deadline and still not answered: a second
            // wait would spend most of the SDK's 1.5 s on the same outage. That fetch still refreshes the memory.
            LogOverdueServedStale(_logger, upstream.Host, _stale.AgeSeconds(known));
            return await _stale.WriteAsync(context, known, activity);
        }

        // Everything the fetch needs from the request is read here: it may outlive the request.
        var message = ConfigUpstreamMessages.CreateRequest(context, route, _settings, trustEdge, decodableOnly: _rewriteDiagnostics);
        var fetch = _fetcher.FetchAsync(message, key, _stale.Enabled && MayRemember(request, route));
        if (_stale.Enabled)
        {
            await Task.WhenAny(fetch, Task.Delay(_deadline, context.RequestAborted));
        }

        if (!fetch.IsCompleted)
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                return ClientGone(fetch, activity);
            }

            if (_stale.Recall(key, request) is { } remembered)
            {
                LogDeadlineServedStale(_logger, upstream.Host, (long)_deadline.TotalMilliseconds, _stale.AgeSeconds(remembered));
                _overdue[key] = fetch;
                _ = fetch.ContinueWith(done => _overdue.TryRemove(KeyValuePair.Create(key, done)), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                ReleaseWhenDone(fetch);
                return await _stale.WriteAsync(context, remembered, activity);
            }
        }

        ConfigUpstreamAnswer answer;
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
                if (_stale.Recall(key, request) is { } remembered)
                {
                    LogFailureServedStale(_logger, upstream.Host, answer.Error.TagValue(), _stale.AgeSeconds(remembered));
                    return await _stale.WriteAsync(context, remembered, activity);
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
            if (IsUpstreamTrouble(upstreamStatus) && _stale.Recall(key, request) is { } fallback)
            {
                LogStatusServedStale(_logger, upstream.Host, upstreamStatus, _stale.AgeSeconds(fallback));
                return await _stale.WriteAsync(context, fallback, activity);
            }

            return await RelayAsync(context, answer, upstream, activity);
        }
    }

    private async Task<ConfigOutcome> RelayAsync(HttpContext context, ConfigUpstreamAnswer answer, UpstreamBaseUrl upstream, Activity? activity)
    {
        var outcome = await ConfigRelay.RelayAsync(context, answer, _settings.UpstreamTimeout);
        if (outcome.Error != ProxyError.None)
        {
            Fail(activity, upstream, outcome.Error);
        }

        return outcome;
    }

    private bool MayRemember(HttpRequest request, ReplayRoute route) =>
        _settings.ApiKeys.AllowsAny || (ApiKeys.ConfigKey(route.AmplitudePathOf(request.Path)) is { } key && _settings.ApiKeys.Allows(key));

    private static bool IsUpstreamTrouble(int status) => status >= 500 || status == StatusCodes.Status429TooManyRequests;

    private ConfigOutcome ClientGone(Task<ConfigUpstreamAnswer> fetch, Activity? activity)
    {
        activity?.SetTag(ReplayProxyTelemetry.ErrorTag, ProxyError.ClientAborted.TagValue());
        LogClientAborted(_logger);
        ReleaseWhenDone(fetch);
        return new(ProxyErrorExtensions.ClientClosedRequest, ProxyError.ClientAborted);
    }

    /// <summary>The fetch goes on without a client (bounded by the upstream timeout) so that a late answer still
    /// refreshes the memory; its resources go when it ends.</summary>
    private static void ReleaseWhenDone(Task<ConfigUpstreamAnswer> fetch) =>
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
