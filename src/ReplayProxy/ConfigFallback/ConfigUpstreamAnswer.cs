using System.Buffers;

namespace ReplayProxy.ConfigFallback;

/// <summary>Amplitude's answer to one config fetch: an error, or the response with its first bytes read (all of them
/// when the body fits the buffer).</summary>
internal sealed class ConfigUpstreamAnswer(TimeSpan timeout) : IDisposable
{
    private byte[]? _buffer;
    private int _length;
    private byte[]? _rewritten;

    public CancellationTokenSource Timeout { get; } = new(timeout);

    public ProxyError Error { get; set; }

    public HttpResponseMessage? Response { get; set; }

    /// <summary>The body's first bytes; all of it when <see cref="Complete"/>. After <see cref="Rewrite"/>, the
    /// rewritten body.</summary>
    public ReadOnlyMemory<byte> Buffered =>
        _rewritten ?? (_buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, _length));

    public bool Complete => Rest is null;

    /// <summary>The unread remainder of a body longer than the buffer.</summary>
    public Stream? Rest { get; private set; }

    /// <summary>True when the body is no longer the bytes Amplitude sent (<see cref="SdkDiagnosticsRewrite"/>).</summary>
    public bool Rewritten => _rewritten is not null;

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

    /// <summary>Replaces a <see cref="Complete"/> body.</summary>
    public void Rewrite(byte[] body)
    {
        if (!Complete)
        {
            throw new InvalidOperationException("Only a body read whole can be replaced.");
        }

        _rewritten = body;
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
