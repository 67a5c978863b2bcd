using System.IO.Compression;

namespace ReplayProxy.Testing;

/// <summary>Real gzip bodies, as the SDKs send them.</summary>
public static class Gzip
{
    public static byte[] Compress(ReadOnlySpan<byte> data, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, level, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return buffer.ToArray();
    }
}
