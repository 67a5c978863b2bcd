namespace ReplayProxy.FunctionsHost;

/// <summary>
/// The host's retry of the forward to the worker: the worker advertises its HTTP address before its Kestrel listens,
/// so a refused connection is retried, up to 10 attempts, 50 ms apart doubling to 250 ms. The host retries every
/// <see cref="HttpRequestException"/>; this retries only failures to connect, because a retry after the request went
/// out reaches the worker a second time with the same invocation id, which the worker fails with a 500 of its own.
/// </summary>
internal sealed class RetryingHttpHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private const int MaxAttempts = 10;
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(250);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError && attempt < MaxAttempts && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(delay, cancellationToken);
                delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
            }
        }
    }
}
