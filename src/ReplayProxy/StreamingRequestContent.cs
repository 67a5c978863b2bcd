using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy;

/// <summary>
/// Streams the client's request body upstream as it arrives, byte for byte, counting against the body limit and
/// pushing the idle deadline forward with each chunk. It can be sent once: a retry by the HTTP client after part of
/// the body went out would send a corrupt body, so it fails instead.
/// </summary>
internal sealed class StreamingRequestContent(HttpRequest request, long maxBytes, ForwardDeadline deadline) : HttpContent
{
    private const int BufferSize = 64 * 1024;
    private int _started;

    public long BytesSent { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The request body was already sent once and cannot be replayed.");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new ClientBodyException(ex);
                }

                if (read == 0)
                {
                    break;
                }

                BytesSent += read;
                if (BytesSent > maxBytes)
                {
                    throw new ClientBodyException(new RequestBodyTooLargeException());
                }

                deadline.Extend();
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = request.ContentLength ?? -1;
        return length >= 0;
    }
}

/// <summary>Reading the client's body failed: the client's fault, not the upstream's.</summary>
internal sealed class ClientBodyException(Exception inner) : IOException("Reading the client's request body failed.", inner);

internal sealed class RequestBodyTooLargeException() : IOException("The request body exceeds the configured limit.");
