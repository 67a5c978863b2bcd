using System.Buffers;
using System.Collections.Frozen;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy;

/// <summary>
/// The API-key allow-list and the places a request carries a key: a Bearer token, the beacon's <c>api_key</c>
/// query parameter, the <c>/config/&lt;key&gt;</c> segment, the analytics body's top-level <c>api_key</c>, and the
/// form upload's <c>client</c> field.
/// <c>*</c> alone accepts any key on purpose; an empty list accepts any key too, but is warned about at start.
/// </summary>
internal sealed class ApiKeys
{
    /// <summary>The list that accepts any key, on purpose.</summary>
    public const string AnyKey = "*";

    private static readonly SearchValues<char> KeyChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

    private readonly FrozenSet<string> _keys;

    public ApiKeys(IEnumerable<string> keys)
    {
        var list = keys.ToArray();
        AnyOnPurpose = list is [AnyKey];
        _keys = AnyOnPurpose ? FrozenSet<string>.Empty : list.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>The list is <c>*</c>.</summary>
    public bool AnyOnPurpose { get; }

    /// <summary>The list is empty: not configured.</summary>
    public bool IsEmpty => !AnyOnPurpose && _keys.Count == 0;

    public bool AllowsAny => AnyOnPurpose || _keys.Count == 0;

    /// <summary>How many keys are listed (0 for <c>*</c>).</summary>
    public int Count => _keys.Count;

    public static bool IsWellFormed(string key) => key.Length > 0 && !key.AsSpan().ContainsAnyExcept(KeyChars);

    /// <summary>True when the key is on the list (never called when the list is empty).</summary>
    public bool Allows(string key) => _keys.Contains(key);

    /// <summary>
    /// Collects the keys a request carries outside its body. Returns false when a credential is present but
    /// unreadable (an <c>Authorization</c> that is not a Bearer token).
    /// </summary>
    public static bool TryCollectFromRequest(HttpRequest request, ReplayRoute route, List<string> found)
    {
        foreach (var authorization in request.Headers.Authorization)
        {
            if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            found.Add(authorization["Bearer ".Length..].Trim());
        }

        if (request.QueryString.HasValue)
        {
            foreach (var key in request.Query["api_key"])
            {
                found.Add(key ?? string.Empty);
            }
        }

        if (route.Kind == ReplayRouteKind.Config)
        {
            var key = ConfigKey(route.AmplitudePathOf(request.Path));
            if (key is not null)
            {
                found.Add(key);
            }
        }

        return true;
    }

    /// <summary>The first path segment after <c>/config/</c>, decoded, or null.</summary>
    public static string? ConfigKey(PathString path)
    {
        var value = path.Value;
        const string prefix = "/config/";
        if (value is null || value.Length <= prefix.Length || !value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var rest = value.AsSpan(prefix.Length);
        var slash = rest.IndexOf('/');
        var segment = slash < 0 ? rest : rest[..slash];
        return segment.IsEmpty ? null : Uri.UnescapeDataString(segment.ToString());
    }

    /// <summary>
    /// Reads the keys of an analytics body (the JSON's top-level <c>api_key</c>, the form's <c>client</c>), gunzipping
    /// a copy when the body is gzip. The body itself is forwarded as received; this only inspects it.
    /// </summary>
    /// <returns>False when the body cannot be read in its format (or is in an unsupported encoding).</returns>
    public static bool TryCollectFromAnalyticsBody(ReadOnlyMemory<byte> body, string? contentEncoding, AnalyticsBodyFormat format, long maxInspectedBytes, List<string> found)
    {
        if (string.IsNullOrEmpty(contentEncoding) || contentEncoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return TryRead(body.Span, format, found);
        }

        if (!contentEncoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            using var compressed = new MemoryStream(body.ToArray(), writable: false);
            using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
            using var plain = new MemoryStream();
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int read;
                while ((read = gzip.Read(buffer, 0, buffer.Length)) > 0)
                {
                    if (plain.Length + read > maxInspectedBytes)
                    {
                        return false;
                    }

                    plain.Write(buffer, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return TryRead(plain.GetBuffer().AsSpan(0, (int)plain.Length), format, found);
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    private static bool TryRead(ReadOnlySpan<byte> body, AnalyticsBodyFormat format, List<string> found) =>
        format == AnalyticsBodyFormat.Form ? TryReadFormClients(body, found) : TryReadApiKeys(body, found);

    /// <summary>The <c>client</c> fields of an <c>application/x-www-form-urlencoded</c> body, as Amplitude-iOS
    /// (<c>v=3&amp;client=&lt;key&gt;&amp;e=...&amp;upload_time=...</c>) and amplitude-js send it.</summary>
    private static bool TryReadFormClients(ReadOnlySpan<byte> form, List<string> found)
    {
        if (form.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E))
        {
            // A form is URL-encoded ASCII; anything else is not what these SDKs send.
            return false;
        }

        foreach (var range in form.Split((byte)'&'))
        {
            var pair = form[range];
            var equals = pair.IndexOf((byte)'=');
            var name = equals < 0 ? pair : pair[..equals];
            if (name.SequenceEqual("client"u8))
            {
                var value = equals < 0 ? [] : pair[(equals + 1)..];
                found.Add(System.Net.WebUtility.UrlDecode(System.Text.Encoding.ASCII.GetString(value)));
            }
        }

        return true;
    }

    private static bool TryReadApiKeys(ReadOnlySpan<byte> json, List<string> found)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isKey = reader.ValueTextEquals("api_key"u8);
                if (!reader.Read())
                {
                    return false;
                }

                if (isKey)
                {
                    found.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : string.Empty);
                }
                else
                {
                    reader.Skip();
                }
            }

            return reader.TokenType == JsonTokenType.EndObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>How an analytics body carries its key: JSON with <c>api_key</c>, or the legacy form with <c>client</c>.</summary>
internal enum AnalyticsBodyFormat
{
    Json,
    Form,
}
