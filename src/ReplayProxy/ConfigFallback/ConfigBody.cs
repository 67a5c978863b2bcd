using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;
using System.Text.Json;

namespace ReplayProxy.ConfigFallback;

/// <summary>Whether a config body is one the SDK can use: JSON with a top-level <c>configs</c> object (PROTOCOL.md),
/// and the content codings the proxy can open to inspect or rewrite it (decoding bounded in size).</summary>
internal static class ConfigBody
{
    public static bool HasConfigsObject(ReadOnlySpan<byte> body, string? contentEncoding, int maxDecodedBytes)
    {
        if (IsIdentity(contentEncoding))
        {
            return HasConfigsObject(body);
        }

        var decoded = Decode(body.ToArray(), contentEncoding, maxDecodedBytes);
        return decoded is not null && HasConfigsObject(decoded);
    }

    /// <summary>Content codings a remembered body may carry: the ones the proxy can inspect.</summary>
    public static bool IsKnownEncoding(string? contentEncoding) =>
        IsIdentity(contentEncoding)
        || contentEncoding.Equals("gzip", StringComparison.OrdinalIgnoreCase)
        || contentEncoding.Equals("br", StringComparison.OrdinalIgnoreCase)
        || contentEncoding.Equals("deflate", StringComparison.OrdinalIgnoreCase);

    public static bool IsIdentity([NotNullWhen(false)] string? contentEncoding) =>
        string.IsNullOrEmpty(contentEncoding) || contentEncoding.Equals("identity", StringComparison.OrdinalIgnoreCase);

    /// <summary>The decoded body, or null when the coding is unknown, the data is broken or it decodes to more than
    /// <paramref name="maxDecodedBytes"/>.</summary>
    public static byte[]? Decode(byte[] body, string contentEncoding, int maxDecodedBytes)
    {
        try
        {
            var input = new MemoryStream(body, writable: false);
            using Stream? decoder = contentEncoding.ToLowerInvariant() switch
            {
                "gzip" => new GZipStream(input, CompressionMode.Decompress),
                "br" => new BrotliStream(input, CompressionMode.Decompress),
                "deflate" => new ZLibStream(input, CompressionMode.Decompress),
                _ => null,
            };
            if (decoder is null)
            {
                return null;
            }

            var output = new byte[maxDecodedBytes + 1];
            var total = 0;
            int read;
            while (total < output.Length && (read = decoder.Read(output, total, output.Length - total)) > 0)
            {
                total += read;
            }

            return total > maxDecodedBytes ? null : output.AsSpan(0, total).ToArray();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary><paramref name="body"/> in <paramref name="contentEncoding"/>, one of the codings <see cref="Decode"/> opens.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> body, string contentEncoding)
    {
        using var output = new MemoryStream();
        using (Stream encoder = contentEncoding.ToLowerInvariant() switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true),
            "br" => new BrotliStream(output, CompressionLevel.Optimal, leaveOpen: true),
            "deflate" => new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true),
            _ => throw new ArgumentOutOfRangeException(nameof(contentEncoding), contentEncoding, "Not a coding the proxy encodes."),
        })
        {
            encoder.Write(body);
        }

        return output.ToArray();
    }

    private static bool HasConfigsObject(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var found = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isConfigs = reader.ValueTextEquals("configs"u8);
                if (!reader.Read())
                {
                    return false;
                }

                found |= isConfigs && reader.TokenType == JsonTokenType.StartObject;
                reader.Skip();
            }

            return found && reader.TokenType == JsonTokenType.EndObject && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
