using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Testing;

/// <summary>How the fake Amplitude fails while it is down.</summary>
public enum OutageMode
{
    /// <summary>Amplitude is up.</summary>
    None,

    /// <summary>503 after reading the whole body (the upload went out and was consumed).</summary>
    ServiceUnavailable,

    /// <summary>The connection is reset after the body was read, before any answer.</summary>
    Reset,

    /// <summary>The body is read, then no answer ever comes.</summary>
    Hang,
}

/// <summary>
/// A <see cref="FakeAmplitude"/> that can be switched down (one <see cref="OutageMode"/>) and up again, and that
/// records what it accepted with a 2xx: what Amplitude would have ingested, exactly once or not.
/// </summary>
public sealed class OutageAmplitude : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedRequest> _accepted = new();
    private volatile OutageMode _mode;

    private OutageAmplitude(FakeAmplitude fake)
    {
        Fake = fake;
        fake.Respond = RespondAsync;
    }

    public FakeAmplitude Fake { get; }

    public Uri BaseAddress => Fake.BaseAddress;

    public OutageMode Mode
    {
        get => _mode;
        set => _mode = value;
    }

    /// <summary>Any other answer while up (a 4xx, a 429); null answers as Amplitude does normally.</summary>
    public int? StatusWhileUp { get; set; }

    /// <summary>What Amplitude answered 2xx, in arrival order.</summary>
    public IReadOnlyCollection<ReceivedRequest> Accepted => _accepted.ToArray();

    public static async Task<OutageAmplitude> StartAsync(OutageMode mode = OutageMode.None) =>
        new(await FakeAmplitude.StartAsync()) { Mode = mode };

    private async Task RespondAsync(HttpContext context, ReceivedRequest request)
    {
        switch (_mode)
        {
            case OutageMode.ServiceUnavailable:
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await context.Response.WriteAsync("""{"code":503,"error":"down"}""");
                return;
            case OutageMode.Reset:
                context.Abort();
                return;
            case OutageMode.Hang:
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }

                return;
        }

        if (StatusWhileUp is { } status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsync($$"""{"code":{{status}}}""");
            return;
        }

        // Recorded before the answer is written: once the proxy sees the 2xx, the test sees the request.
        _accepted.Enqueue(request);
        await FakeAmplitude.DefaultRespond(context, request);
    }

    public ValueTask DisposeAsync() => Fake.DisposeAsync();
}
