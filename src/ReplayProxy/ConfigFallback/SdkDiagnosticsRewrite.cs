using System.Text;
using System.Text.Json;

namespace ReplayProxy.ConfigFallback;

/// <summary>
/// Keeps the browser SDK from sending diagnostics to Amplitude's diagnostics host, which no SDK option can point at
/// the proxy (PROTOCOL.md "SDK diagnostics"): in a config answer, every <c>configs.diagnostics.browserSDK</c> object
/// gets <c>"enabled":false</c> and <c>"sampleRate":0</c>. The two values are spliced into Amplitude's bytes, so
/// everything else (other fields, order, spacing, escapes) stays exactly as sent; a missing field is added at the
/// object's start. A body that is not one JSON object, or that has no such object, is left alone.
/// </summary>
internal static class SdkDiagnosticsRewrite
{
    private static readonly byte[] Disabled = "false"u8.ToArray();
    private static readonly byte[] NoSamples = "0"u8.ToArray();

    /// <summary>The rewritten body in the same content coding, or null when nothing is to change or the body cannot
    /// be opened within <paramref name="maxDecodedBytes"/>.</summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> body, string? contentEncoding, int maxDecodedBytes)
    {
        if (ConfigBody.IsIdentity(contentEncoding))
        {
            return body.Length <= maxDecodedBytes ? RewriteJson(body) : null;
        }

        if (!ConfigBody.IsKnownEncoding(contentEncoding) || ConfigBody.Decode(body.ToArray(), contentEncoding, maxDecodedBytes) is not { } decoded)
        {
            return null;
        }

        return RewriteJson(decoded) is { } rewritten ? ConfigBody.Encode(rewritten, contentEncoding) : null;
    }

    /// <summary>The JSON with the diagnostics switched off, or null when it already is, or has nothing to switch.</summary>
    public static byte[]? RewriteJson(ReadOnlySpan<byte> json)
    {
        // A UTF-8 byte order mark: JSON.parse after fetch's text decoding never sees it, Utf8JsonReader refuses it.
        var start = json.StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        var edits = new List<Edit>();
        try
        {
            var reader = new Utf8JsonReader(json[start..]);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            // Every match, duplicates included: JSON.parse keeps the last of equal names, whichever that is.
            while (NextProperty(ref reader, "configs"u8, out var configs))
            {
                while (configs && NextProperty(ref reader, "diagnostics"u8, out var diagnostics))
                {
                    while (diagnostics && NextProperty(ref reader, "browserSDK"u8, out var browserSdk))
                    {
                        if (browserSdk)
                        {
                            SwitchOff(ref reader, start, edits);
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }

                    if (!diagnostics)
                    {
                        reader.Skip();
                    }
                }

                if (!configs)
                {
                    reader.Skip();
                }
            }

            // One JSON value and nothing after it; anything else the SDK cannot read either, so it stays as it is.
            if (reader.Read())
            {
                return null;
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return edits.Count == 0 ? null : Apply(json, edits);
    }

    /// <summary>Reads the next property name of the current object and moves onto its value; false at the object's
    /// end. <paramref name="isObject"/> says whether the name is <paramref name="name"/> and its value an object.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> name, out bool isObject)
    {
        isObject = false;
        if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName)
        {
            return false;
        }

        var matches = reader.ValueTextEquals(name);
        reader.Read();
        isObject = matches && reader.TokenType == JsonTokenType.StartObject;
        return true;
    }

    /// <summary>On a <c>browserSDK</c> object's start: records the edits that make it <c>enabled: false</c>,
    /// <c>sampleRate: 0</c>, and leaves the reader on its end.</summary>
    private static void SwitchOff(ref Utf8JsonReader reader, int offset, List<Edit> edits)
    {
        var insertAt = offset + (int)reader.TokenStartIndex + 1;
        var hasProperties = false;
        var sawEnabled = false;
        var sawSampleRate = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            hasProperties = true;
            var isEnabled = reader.ValueTextEquals("enabled"u8);
            var isSampleRate = !isEnabled && reader.ValueTextEquals("sampleRate"u8);
            reader.Read();
            var valueStart = offset + (int)reader.TokenStartIndex;
            reader.Skip();
            var valueLength = offset + (int)reader.BytesConsumed - valueStart;
            if (isEnabled || isSampleRate)
            {
                sawEnabled |= isEnabled;
                sawSampleRate |= isSampleRate;
                edits.Add(new(valueStart, valueLength, isEnabled ? Disabled : NoSamples));
            }
        }

        var missing = new List<string>(2);
        if (!sawEnabled)
        {
            missing.Add("\"enabled\":false");
        }

        if (!sawSampleRate)
        {
            missing.Add("\"sampleRate\":0");
        }

        if (missing.Count > 0)
        {
            edits.Add(new(insertAt, 0, Encoding.UTF8.GetBytes(string.Join(',', missing) + (hasProperties ? "," : string.Empty))));
        }
    }

    private static byte[]? Apply(ReadOnlySpan<byte> json, List<Edit> edits)
    {
        edits.Sort(static (a, b) => a.Offset.CompareTo(b.Offset));
        var output = new List<byte>(json.Length + 32);
        var copied = 0;
        var changed = false;
        foreach (var edit in edits)
        {
            var current = json.Slice(edit.Offset, edit.Length);
            changed |= !current.SequenceEqual(edit.Replacement);
            output.AddRange(json[copied..edit.Offset]);
            output.AddRange(edit.Replacement);
            copied = edit.Offset + edit.Length;
        }

        output.AddRange(json[copied..]);
        return changed ? [.. output] : null;
    }

    /// <summary>Replace <see cref="Length"/> bytes at <see cref="Offset"/> (0: insert) with <see cref="Replacement"/>.</summary>
    private readonly record struct Edit(int Offset, int Length, byte[] Replacement);
}
