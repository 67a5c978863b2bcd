using System.IO.Compression;
using System.Text;
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
