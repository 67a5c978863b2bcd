using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using ReplayProxy.ConfigFallback;

namespace ReplayProxy.Tests.ConfigFallback;

/// <summary>The splice that switches the browser SDK's diagnostics off: exactly the two values change, nothing else.</summary>
public sealed class SdkDiagnosticsRewriteTests
{
    [Theory]
    [InlineData(
        """{"configs":{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}}}}""",
        """{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}}}}""")]
    [InlineData(
        """{ "configs" : { "diagnostics" : { "browserSDK" : { "sampleRate" : 0.25 , "x" : [true,{"enabled":true}] , "enabled" : true } } } , "enabled":true }""",
        """{ "configs" : { "diagnostics" : { "browserSDK" : { "sampleRate" : 0 , "x" : [true,{"enabled":true}] , "enabled" : false } } } , "enabled":true }""")]
    [InlineData(
        """{"configs":{"diagnostics":{"browserSDK":{"sampleRate":1}}}}""",
        """{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}}}}""")]
    [InlineData(
        """{"configs":{"diagnostics":{"browserSDK":{}}}}""",
        """{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}}}}""")]
    [InlineData(
        """{"configs":{"diagnostics":{"browserSDK":{"other":"kept"}}}}""",
        """{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0,"other":"kept"}}}}""")]
    [InlineData(
        """{"configs":{"diagnostics":{"browserSDK":{"enabled":"yes","sampleRate":{"v":1}}}}}""",
        """{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}}}}""")]
    [InlineData(
        // Escaped names are the same names to JSON.parse.
        """{"\u0063onfigs":{"diagnostics":{"browserSDK":{"\u0065nabled":true,"sampleRate":1}}}}""",
        """{"\u0063onfigs":{"diagnostics":{"browserSDK":{"\u0065nabled":false,"sampleRate":0}}}}""")]
    [InlineData(
        // JSON.parse keeps the last of duplicate names; every copy is switched off.
        """{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}},"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1,"sampleRate":1}}}}""",
        """{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}},"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0,"sampleRate":0}}}}""")]
    [InlineData(
        "{\"configs\":{\"sessionReplay\":{\"sr_sampling_config\":{\"sample_rate\":1}},\"diagnostics\":{\"other\":1,\"browserSDK\":{\"enabled\":true,\"sampleRate\":1}}},\n\"é\":\"ünïcode\"}\n",
        "{\"configs\":{\"sessionReplay\":{\"sr_sampling_config\":{\"sample_rate\":1}},\"diagnostics\":{\"other\":1,\"browserSDK\":{\"enabled\":false,\"sampleRate\":0}}},\n\"é\":\"ünïcode\"}\n")]
    public void Only_the_two_values_change(string original, string expected)
    {
        var rewritten = SdkDiagnosticsRewrite.RewriteJson(Encoding.UTF8.GetBytes(original));

        Assert.NotNull(rewritten);
        Assert.Equal(expected, Encoding.UTF8.GetString(rewritten));
    }

    [Theory]
    [InlineData("""{"configs":{"sessionReplay":{"sr_sampling_config":{"sample_rate":1,"capture_enabled":true}}}}""")]
    [InlineData("""{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}}}}""")]
    [InlineData("""{"configs":{"diagnostics":{"browserSDK":{"sampleRate":0,"enabled":false,"x":1}}}}""")]
    [InlineData("""{"configs":{"diagnostics":{"browserSDK":true}}}""")]
    [InlineData("""{"configs":{"diagnostics":[{"browserSDK":{"enabled":true}}]}}""")]
    [InlineData("""{"configs":{"other":{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}}}}}""")]
    [InlineData("""{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}}}""")]
    [InlineData("""[{"configs":{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}}}}]""")]
    [InlineData("""{"configs":{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}}}} trailing""")]
    [InlineData("""{"configs":{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}}}""")]
    [InlineData("""{"configs":{"diagnostics":{"browserSDK":{"enabled":true,/*c*/"sampleRate":1}}}}""")]
    [InlineData("not json at all")]
    [InlineData("")]
    public void A_body_with_nothing_to_switch_off_or_that_is_not_one_JSON_object_is_left_alone(string body)
    {
        Assert.Null(SdkDiagnosticsRewrite.RewriteJson(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void A_byte_order_mark_stays_in_front()
    {
        var body = Encoding.UTF8.Preamble.ToArray().Concat(Encoding.UTF8.GetBytes("""{"configs":{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}}}}""")).ToArray();

        var rewritten = SdkDiagnosticsRewrite.RewriteJson(body);

        Assert.NotNull(rewritten);
        Assert.Equal(Encoding.UTF8.Preamble.ToArray().Concat(Encoding.UTF8.GetBytes("""{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}}}}""")), rewritten);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    [InlineData("deflate")]
    [InlineData("GZIP")]
    public void A_compressed_body_is_rewritten_in_the_same_coding(string coding)
    {
        var original = Encoding.UTF8.GetBytes("""{"configs":{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}}}}""");

        var rewritten = SdkDiagnosticsRewrite.Rewrite(ConfigBody.Encode(original, coding), coding, ConfigMemory.MaxEntryBytes);

        Assert.NotNull(rewritten);
        Assert.Equal("""{"configs":{"diagnostics":{"browserSDK":{"enabled":false,"sampleRate":0}}}}""", Encoding.UTF8.GetString(Decode(rewritten, coding)));
    }

    [Fact]
    public void Past_the_bound_or_in_a_coding_the_proxy_cannot_open_nothing_is_rewritten()
    {
        var large = Encoding.UTF8.GetBytes("""{"configs":{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}},"pad":" """ + new string(' ', ConfigMemory.MaxEntryBytes) + "\"}}");
        Assert.Null(SdkDiagnosticsRewrite.Rewrite(large, null, ConfigMemory.MaxEntryBytes));
        Assert.Null(SdkDiagnosticsRewrite.Rewrite(Gzip.Compress(large), "gzip", ConfigMemory.MaxEntryBytes));

        var small = Encoding.UTF8.GetBytes("""{"configs":{"diagnostics":{"browserSDK":{"enabled":true,"sampleRate":1}}}}""");
        Assert.Null(SdkDiagnosticsRewrite.Rewrite(Gzip.Compress(small), "zstd", ConfigMemory.MaxEntryBytes));
        Assert.Null(SdkDiagnosticsRewrite.Rewrite(small, "gzip", ConfigMemory.MaxEntryBytes));
        Assert.NotNull(SdkDiagnosticsRewrite.Rewrite(small, "identity", ConfigMemory.MaxEntryBytes));
    }

    /// <summary>Property-based: generated config answers, in either formatting and escaping, with the diagnostics
    /// object anywhere among other fields; the answer read back equals the original with only the two values set.</summary>
    [Fact]
    public void Generated_answers_differ_only_in_the_two_values()
    {
        var names = Gen.Elements("enabled", "sampleRate", "configs", "diagnostics", "browserSDK", "x", "é\"\u2028", "sr_sampling_config", "😀");
        var scalars = Gen.OneOf(
            // A node has one parent: each use gets its own copy.
            Gen.Elements<JsonNode?>(null, true, false, 0, 1, -0.5, 1e300, "", "true", "é\n\"\u0000</script>", "😀").Select(n => n?.DeepClone()),
            Gen.Choose(-1000, 1000).Select(n => (JsonNode?)n));
        Gen<JsonNode?> Values(int depth) => depth == 0 ? scalars : Gen.OneOf(
            scalars,
            Gen.ListOf(Values(depth - 1)).Select(items => (JsonNode?)new JsonArray([.. items.Take(4)])),
            Objects(depth - 1).Select(o => (JsonNode?)o));
        Gen<JsonObject> Objects(int depth) => Gen.ListOf(Gen.Zip(names, Values(depth))).Select(pairs =>
        {
            var json = new JsonObject();
            foreach (var (name, value) in pairs.Take(5))
            {
                json[name] = value;
            }

            return json;
        });
        var answers =
            from root in Objects(2)
            from configs in Objects(2)
            from diagnostics in Objects(1)
            from browserSdk in Objects(1)
            from shape in Gen.Choose(0, 3)
            from indented in Gen.Elements(true, false)
            from relaxed in Gen.Elements(true, false)
            select Answer(root, configs, diagnostics, browserSdk, shape, new JsonSerializerOptions
            {
                WriteIndented = indented,
                Encoder = relaxed ? JavaScriptEncoder.UnsafeRelaxedJsonEscaping : JavaScriptEncoder.Default,
            });

        var property = Prop.ForAll(answers.ToArbitrary(), answer =>
        {
            var (text, hasBrowserSdk) = answer;
            var original = Encoding.UTF8.GetBytes(text);
            var rewritten = SdkDiagnosticsRewrite.RewriteJson(original);
            var expected = JsonNode.Parse(text)!;
            if (hasBrowserSdk)
            {
                var browserSdk = expected["configs"]!["diagnostics"]!["browserSDK"]!.AsObject();
                browserSdk["enabled"] = false;
                browserSdk["sampleRate"] = 0;
            }

            var result = JsonNode.Parse(rewritten ?? original);
            return JsonNode.DeepEquals(expected, result) && (rewritten is null) == (JsonNode.DeepEquals(JsonNode.Parse(text), result));
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }

    /// <summary>The answer's text and whether it has a <c>configs.diagnostics.browserSDK</c> object: shape 0 has
    /// none, 1 puts <c>diagnostics</c> under <c>configs</c> without one, 2 and 3 have one (first or last).</summary>
    private static (string Text, bool HasBrowserSdk) Answer(JsonObject root, JsonObject configs, JsonObject diagnostics, JsonObject browserSdk, int shape, JsonSerializerOptions options)
    {
        foreach (var name in new[] { "configs", "diagnostics", "browserSDK" })
        {
            root.Remove(name);
            configs.Remove(name);
            diagnostics.Remove(name);
        }

        if (shape >= 2)
        {
            var withFirst = new JsonObject();
            if (shape == 2)
            {
                withFirst["browserSDK"] = browserSdk;
            }

            foreach (var (name, value) in diagnostics.ToArray())
            {
                diagnostics.Remove(name);
                withFirst[name] = value;
            }

            if (shape == 3)
            {
                withFirst["browserSDK"] = browserSdk;
            }

            diagnostics = withFirst;
        }

        if (shape >= 1)
        {
            configs["diagnostics"] = diagnostics;
        }

        root["configs"] = configs;
        return (root.ToJsonString(options), shape >= 2);
    }

    private static byte[] Decode(byte[] body, string coding)
    {
        using var input = new MemoryStream(body);
        using Stream decoder = coding.ToLowerInvariant() switch
        {
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            "br" => new BrotliStream(input, CompressionMode.Decompress),
            _ => new ZLibStream(input, CompressionMode.Decompress),
        };
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }
}
