namespace ReplayProxy.Spool;

/// <summary>
/// The bounded copy of an upload's body taken while it streams upstream, so that the upload can still be kept when
/// Amplitude fails after reading it. Up to <see cref="MemoryBound"/> bytes stay in a pooled buffer; beyond that the
/// copy goes on in an owner-only spill file (deleted on dispose), so no request holds a large body in memory.
/// </summary>
internal sealed class SpoolCapture(string spillDirectory, long? expectedLength) : IDisposable
{
    public const int MemoryBound = 1024 * 1024;
    private PooledBuffer? _memory;
    private FileStream? _spill;

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_spill is null && Length + data.Length > MemoryBound)
        {
            _spill = FileSpoolStore.CreateSpillFile(spillDirectory);
            if (_memory is not null)
            {
                _spill.Write(_memory.WrittenMemory.Span);
                _memory.Dispose();
                _memory = null;
            }
        }

        if (_spill is not null)
        {
            _spill.Write(data);
        }
        else
        {
            _memory ??= new PooledBuffer((int)Math.Clamp(expectedLength ?? 16 * 1024, 1, MemoryBound));
            data.CopyTo(_memory.GetSpan(data.Length));
            _memory.Advance(data.Length);
        }

        Length += data.Length;
    }

    /// <summary>The copy from its first byte; valid until the capture is disposed.</summary>
    public Stream OpenRead()
    {
        if (_spill is not null)
        {
            _spill.Flush();
            _spill.Position = 0;
            return new NonClosingStream(_spill);
        }

        return _memory is null ? Stream.Null : ReadOnlyStream(_memory.WrittenMemory);
    }

    public static MemoryStream ReadOnlyStream(ReadOnlyMemory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(memory.ToArray(), writable: false);

    public void Dispose()
    {
        _memory?.Dispose();
        _memory = null;
        _spill?.Dispose();
        _spill = null;
    }

    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
