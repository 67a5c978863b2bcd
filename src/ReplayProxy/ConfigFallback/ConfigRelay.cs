using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace ReplayProxy.ConfigFallback;

/// <summary>Writes Amplitude's config answer to the client: its status, its headers under the response header policy,
/// the bytes already read and then the rest of the body as it comes, each read bounded by the idle timeout.</summary>
internal static class ConfigRelay
{
    private const int BufferSize = 16 * 1024;

    /// <summary>Headers that describe the exact bytes Amplitude sent; a rewritten body no longer matches them.</summary>
    private static readonly string[] ByteDigests = [HeaderNames.ContentMD5, "Digest", "Content-Digest", "Repr-Digest"];

    /// <summary>Relays <paramref name="answer"/>; a failure after the status line cuts the client connection (a short
    /// body must never look complete) and comes back as the outcome's error.</summary>
    public static async Task<ConfigOutcome> RelayAsync(HttpContext context, ConfigUpstreamAnswer answer, TimeSpan idleTimeout)
    {
        var upstream = answer.Response!;
        var status = (int)upstream.StatusCode;
        var response = context.Response;
        response.StatusCode = status;
        AmplitudeTransformer.CopyResponseHeaders(upstream, response);
        if (answer.Rewritten)
        {
            DescribeRewrittenBody(response, answer.Buffered.Length);
        }

        long written = 0;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        try
        {
            await response.Body.WriteAsync(answer.Buffered, context.RequestAborted);
            written += answer.Buffered.Length;
            if (answer.Rest is { } rest)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                try
                {
                    int read;
                    idle.CancelAfter(idleTimeout);
                    while ((read = await rest.ReadAsync(buffer.AsMemory(0, BufferSize), idle.Token)) > 0)
                    {
                        await response.Body.WriteAsync(buffer.AsMemory(0, read), idle.Token);
                        written += read;
                        idle.CancelAfter(idleTimeout);
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
            var error = context.RequestAborted.IsCancellationRequested ? ProxyError.ClientAborted : ProxyError.UpstreamResponseAborted;
            context.Abort();
            return new(error.StatusCode(), error, written);
        }

        return new(status, ProxyError.None, written);
    }

    /// <summary>The same coding, a new length; a strong validator becomes weak (the content means the same, the bytes
    /// differ: a revalidation Amplitude answers 304 keeps the client's rewritten copy), byte digests go.</summary>
    private static void DescribeRewrittenBody(HttpResponse response, int length)
    {
        response.ContentLength = length;
        if (response.Headers.ETag is [{ } etag] && !etag.StartsWith("W/", StringComparison.Ordinal))
        {
            response.Headers.ETag = "W/" + etag;
        }

        foreach (var name in ByteDigests)
        {
            response.Headers.Remove(name);
        }
    }
}
