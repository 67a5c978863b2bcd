using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Spool;

/// <summary>
/// Everything of a kept upload except its body: where it goes (upstream kind and region, resolved again at delivery),
/// the escaped path and raw query as they would have gone upstream, and the request headers the proxy would have
/// sent, the client IP as <c>X-Forwarded-For</c> included. Configured <c>UpstreamHeaders</c> are not kept: delivery
/// applies the ones in force then.
/// </summary>
internal sealed record SpooledRequest(
    DateTimeOffset Created,
    string Route,
    UpstreamKind Kind,
    string Region,
    string Path,
    string Query,
    IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    /// <summary>The start of every stored item: a format tag and the length of the JSON header that follows; then
    /// the body's bytes to the end.</summary>
    private static ReadOnlySpan<byte> Magic => "RPSPOOL1"u8;

    public const int PreambleLength = 12;

    public static SpooledRequest From(HttpContext context, ReplayRoute route, ReplayProxySettings settings, bool trustEdge, DateTimeOffset now)
    {
        var request = context.Request;
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers)
        {
            if (HeaderPolicy.ForwardRequestHeader(name))
            {
                foreach (var value in values)
                {
                    headers.Add(new(name, value ?? string.Empty));
                }
            }
        }

        if (ClientAddress.Resolve(context, trustEdge) is { } clientIp)
        {
            headers.Add(new(ClientAddress.ForwardedForHeader, clientIp));
        }

        return new(now, route.Unprefixed.Name, route.Upstream, settings.RegionOf(route), route.UpstreamPath(request), request.QueryString.Value ?? string.Empty, headers);
    }

    /// <summary>The preamble and JSON header, ready to be followed by the body.</summary>
    public byte[] Serialize()
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteNumber("created", Created.ToUnixTimeMilliseconds());
            writer.WriteString("route", Route);
            writer.WriteString("kind", Kind.ToString());
            writer.WriteString("region", Region);
            writer.WriteString("path", Path);
            writer.WriteString("query", Query);
            writer.WriteStartArray("headers");
            foreach (var (name, value) in Headers)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(name);
                writer.WriteStringValue(value);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var header = new byte[PreambleLength + json.Length];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(Magic.Length), (int)json.Length);
        json.GetBuffer().AsSpan(0, (int)json.Length).CopyTo(header.AsSpan(PreambleLength));
        return header;
    }

    /// <summary>Reads the preamble and header from <paramref name="stream"/>, leaving it at the body's first byte.</summary>
    /// <exception cref="InvalidDataException">The item is not one this version wrote, or is cut short.</exception>
    public static async Task<(SpooledRequest Request, int HeaderLength)> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var preamble = new byte[PreambleLength];
        await ReadExactlyAsync(stream, preamble, cancellationToken);
        if (!preamble.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a spooled request.");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(preamble.AsSpan(Magic.Length));
        if (length is < 2 or > 1024 * 1024)
        {
            throw new InvalidDataException("Spooled request header length out of range.");
        }

        var json = new byte[length];
        await ReadExactlyAsync(stream, json, cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var headers = new List<KeyValuePair<string, string>>();
            foreach (var pair in root.GetProperty("headers").EnumerateArray())
            {
                headers.Add(new(pair[0].GetString()!, pair[1].GetString()!));
            }

            var request = new SpooledRequest(
                DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("created").GetInt64()),
                root.GetProperty("route").GetString()!,
                Enum.Parse<UpstreamKind>(root.GetProperty("kind").GetString()!),
                root.GetProperty("region").GetString()!,
                root.GetProperty("path").GetString()!,
                root.GetProperty("query").GetString()!,
                headers);
            return (request, PreambleLength + length);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            throw new InvalidDataException("Spooled request header is malformed.", ex);
        }
    }

    private static async Task ReadExactlyAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("Spooled request is cut short.", ex);
        }
    }
}
