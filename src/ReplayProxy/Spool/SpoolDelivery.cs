using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Spool;

/// <summary>
/// Sends kept uploads to Amplitude, oldest first, once it answers again: an item is deleted only after Amplitude's
/// 2xx, dropped (logged, counted) on a 4xx other than 408/429 or when older than <c>MaxAgeSeconds</c>, and otherwise
/// left for the next pass. While Amplitude keeps failing the passes back off, doubling up to <c>RetryMaxSeconds</c>.
/// </summary>
internal sealed partial class SpoolDelivery(OutageSpool spool, ReplayProxySettings settings, UpstreamClient upstream, TimeProvider time, ILogger<SpoolDelivery> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);

    /// <summary>A delivery ends well within the shortest Blob lease (60 s) the claim holds.</summary>
    private static readonly TimeSpan LongestDelivery = TimeSpan.FromSeconds(45);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (spool.Store is not { } store)
        {
            return;
        }

        // A directory another process holds, or one that cannot be created, stops the start with the setting's name.
        await store.OpenAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var store = spool.Store!;
        var wait = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            var added = spool.Added;
            bool blocked;
            try
            {
                blocked = await DeliverPassAsync(store, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPassFailed(logger, store.Kind, ex.GetType().Name, ex);
                blocked = true;
            }

            try
            {
                if (blocked)
                {
                    wait = wait == TimeSpan.Zero ? FirstRetry : TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, spool.RetryMax.Ticks));
                    await Task.Delay(wait, time, stoppingToken);
                }
                else
                {
                    // Nothing left: wait for a new upload, or for other instances' items (shared Blob container).
                    wait = TimeSpan.Zero;
                    await added.WaitAsync(spool.RetryMax, time, stoppingToken).ContinueWith(static _ => { }, TaskScheduler.Default);
                    stoppingToken.ThrowIfCancellationRequested();
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass over the store; true when Amplitude (or the store) failed and the rest must wait.</summary>
    internal async Task<bool> DeliverPassAsync(ISpoolStore store, CancellationToken cancellationToken)
    {
        foreach (var entry in await store.ListAsync(cancellationToken))
        {
            await using var claim = await store.TryClaimAsync(entry, cancellationToken);
            if (claim is null)
            {
                continue;
            }

            if (time.GetUtcNow() - entry.Created > spool.MaxAge)
            {
                await claim.DeleteAsync(cancellationToken);
                spool.RecordDropped("unknown", "expired");
                LogExpired(logger, (long)spool.MaxAge.TotalSeconds);
                continue;
            }

            SpooledRequest request;
            Stream body;
            long bodyLength;
            try
            {
                (request, body, bodyLength) = await claim.ReadAsync(cancellationToken);
            }
            catch (InvalidDataException)
            {
                await claim.DeleteAsync(cancellationToken);
                spool.RecordDropped("unknown", "unreadable");
                LogUnreadable(logger, store.Kind);
                continue;
            }

            var status = await SendAsync(request, body, bodyLength, cancellationToken);
            if (status is >= 200 and < 300)
            {
                await claim.DeleteAsync(cancellationToken);
                spool.RecordDelivered(request.Route);
                LogDelivered(logger, request.Route, (long)(time.GetUtcNow() - request.Created).TotalSeconds);
            }
            else if (status is >= 400 and < 500 and not (int)HttpStatusCode.RequestTimeout and not (int)HttpStatusCode.TooManyRequests)
            {
                // It will never succeed: keeping it would block the items behind it for MaxAgeSeconds.
                await claim.DeleteAsync(cancellationToken);
                spool.RecordDropped(request.Route, "rejected");
                LogRejected(logger, request.Route, status);
            }
            else
            {
                LogStillFailing(logger, request.Route, status);
                return true;
            }
        }

        return false;
    }

    /// <summary>Sends the kept request as it would have gone: Amplitude's status, or 0 when it could not be reached.</summary>
    private async Task<int> SendAsync(SpooledRequest request, Stream body, long bodyLength, CancellationToken cancellationToken)
    {
        var target = settings.For(request.Region, request.Kind).Target(request.Path, request.Query);
        using var message = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = new StreamContent(body),
        };
        message.Content.Headers.ContentLength = bodyLength;
        foreach (var (name, value) in request.Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        foreach (var (name, value) in settings.ExtraUpstreamHeaders)
        {
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.UpstreamTimeout < LongestDelivery ? settings.UpstreamTimeout : LongestDelivery);
        try
        {
            using var response = await upstream.Invoker.SendAsync(message, timeout.Token);
            return (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return 0;
        }
    }

    [LoggerMessage(EventId = 43, Level = LogLevel.Information, Message = "Delivered a kept {Route} upload ({AgeSeconds} s after it was kept)")]
    private static partial void LogDelivered(ILogger logger, string route, long ageSeconds);

    [LoggerMessage(EventId = 44, Level = LogLevel.Warning, Message = "Amplitude refused a kept {Route} upload with {StatusCode}; dropped (it would never succeed)")]
    private static partial void LogRejected(ILogger logger, string route, int statusCode);

    [LoggerMessage(EventId = 45, Level = LogLevel.Warning, Message = "Dropped a kept upload older than MaxAgeSeconds ({MaxAgeSeconds} s)")]
    private static partial void LogExpired(ILogger logger, long maxAgeSeconds);

    [LoggerMessage(EventId = 46, Level = LogLevel.Error, Message = "Dropped an unreadable item from the {Store} spool")]
    private static partial void LogUnreadable(ILogger logger, string store);

    [LoggerMessage(EventId = 47, Level = LogLevel.Information, Message = "Amplitude still failing for a kept {Route} upload (status {StatusCode}, 0: unreachable); retrying later")]
    private static partial void LogStillFailing(ILogger logger, string route, int statusCode);

    [LoggerMessage(EventId = 48, Level = LogLevel.Error, Message = "A delivery pass over the {Store} spool failed ({ExceptionType}); retrying later")]
    private static partial void LogPassFailed(ILogger logger, string store, string exceptionType, Exception exception);
}
