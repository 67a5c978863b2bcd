using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ReplayProxy.Spool;

namespace ReplayProxy;

/// <summary>
/// The client's request body as the forwarder reads it: counted for telemetry, and cut off with
/// <see cref="RequestBodyTooLargeException"/> once it passes the limit. This is the limit on every host: the gate never
/// lowers Kestrel's own, which would drop the connection on a sender still sending instead of letting it read the 413.
/// </summary>
internal sealed class MeteredRequestBody(Stream inner, long maxBytes, SpoolCapture? capture = null) : Stream
{
    public long BytesRead { get; private set; }

    public bool Completed { get; private set; }

    /// <summary>Replaces <see cref="HttpRequest.Body"/> with a metered view of <paramref name="body"/>.</summary>
    /// <param name="capture">Where a copy of what is read goes, for an upload that may be kept through an outage.</param>
    public static MeteredRequestBody Install(HttpRequest request, Stream body, long maxBytes, SpoolCapture? capture = null)
    {
        var metered = new MeteredRequestBody(body, maxBytes, capture);
        request.Body = metered;
        if (request.ContentLength == 0)
        {
            // YARP sends no content for a declared empty body, and so no Content-Length: 0, Content-Type or
            // Content-Encoding either; the client sent them, Amplitude gets them.
            request.HttpContext.Features.Set<IHttpRequestBodyDetectionFeature>(DeclaredEmptyBody.Instance);
        }

        return metered;
    }

    private sealed class DeclaredEmptyBody : IHttpRequestBodyDetectionFeature
    {
        public static readonly DeclaredEmptyBody Instance = new();

        public bool CanHaveBody => true;
    }

    /// <summary>
    /// Reads what is left of the body, discarding it, to learn whether it would have passed the limit. Used when the
    /// upstream failed before the body was read, so an oversize upload without <c>Content-Length</c> still gets 413.
    /// </summary>
    public async Task<bool> ExceedsLimitAsync(CancellationToken cancellationToken) =>
        await ReadToEndAsync(cancellationToken) == ProxyError.RequestTooLarge;

    /// <summary>Reads what is left of the body (into the capture, if any): <see cref="ProxyError.None"/> once it
    /// ended, else why not.</summary>
    public async Task<ProxyError> ReadToEndAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (!Completed && await ReadAsync(buffer, cancellationToken) > 0)
            {
            }

            return ProxyError.None;
        }
        catch (RequestBodyTooLargeException)
        {
            return ProxyError.RequestTooLarge;
        }
        catch (BadHttpRequestException ex)
        {
            return ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? ProxyError.RequestTooLarge : ProxyError.RequestInvalid;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            return ProxyError.ClientAborted;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Count(read);
        capture?.Append(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Count(read);
        capture?.Append(buffer.AsSpan(offset, read));
        return read;
    }

    private void Count(int read)
    {
        if (read == 0)
        {
            Completed = true;
            return;
        }

        BytesRead += read;
        if (BytesRead > maxBytes)
        {
            throw new RequestBodyTooLargeException();
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The request body passed <c>MaxRequestBodyBytes</c>.</summary>
internal sealed class RequestBodyTooLargeException() : IOException("The request body exceeds the configured limit.");
