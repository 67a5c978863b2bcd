namespace ReplayProxy;

/// <summary>
/// One request's cancellation: the client going away, or the upstream being idle for longer than the timeout (no
/// response headers within it once the body is sent, or a response body that stalls). Progress pushes it forward.
/// </summary>
internal sealed class ForwardDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _clientAborted;
    private readonly TimeSpan _idle;
    private const long RearmIntervalMs = 1000;
    private long _armedAt;

    public ForwardDeadline(CancellationToken clientAborted, TimeSpan idle)
    {
        _clientAborted = clientAborted;
        _idle = idle;
        _source = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
        _source.CancelAfter(idle);
        _armedAt = Environment.TickCount64;
    }

    public CancellationToken Token => _source.Token;

    public bool ClientAborted => _clientAborted.IsCancellationRequested;

    public bool TimedOut => _source.IsCancellationRequested && !_clientAborted.IsCancellationRequested;

    public void Extend()
    {
        // Re-arming the timer is not free and bodies arrive in many chunks: once a second keeps the idle timeout
        // accurate to a second at a fraction of the cost.
        var now = Environment.TickCount64;
        if (now - _armedAt < RearmIntervalMs)
        {
            return;
        }

        _armedAt = now;
        try
        {
            _source.CancelAfter(_idle);
        }
        catch (ObjectDisposedException)
        {
            // The exchange is over; nothing left to time.
        }
    }

    public void Dispose() => _source.Dispose();
}
