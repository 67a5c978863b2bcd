using System.Text;
using Microsoft.Extensions.Primitives;
using ReplayProxy.ConfigFallback;

namespace ReplayProxy.Tests.ConfigFallback;

/// <summary>Which remembered bodies qualify, and which clients may get a compressed one.</summary>
public sealed class ConfigCodingTests
{
    [Theory]
    [InlineData("gzip, deflate, br, zstd", "gzip", true)]
    [InlineData("GZIP", "gzip", true)]
    [InlineData("br;q=1.0, gzip;q=0.8", "gzip", true)]
    [InlineData("*", "br", true)]
    [InlineData("gzip;q=0", "gzip", false)]
    [InlineData("gzip; q=0.000", "gzip", false)]
    [InlineData("deflate, br", "gzip", false)]
    [InlineData("", "gzip", false)]
    [InlineData("", null, true)]
    [InlineData("", "identity", true)]
    public void A_compressed_body_goes_only_to_a_client_that_accepts_its_coding(string acceptEncoding, string? contentEncoding, bool expected)
    {
        var header = acceptEncoding.Length == 0 ? StringValues.Empty : new StringValues(acceptEncoding);
        Assert.Equal(expected, StaleConfig.Accepts(header, contentEncoding));
    }

    [Fact]
    public void A_gzip_body_is_inspected_decoded_and_a_decoded_size_over_the_bound_is_refused()
    {
        var config = Encoding.UTF8.GetBytes(ConfigOutage.Config);
        Assert.True(ConfigBody.HasConfigsObject(Gzip.Compress(config), "gzip", ConfigMemory.MaxEntryBytes));

        // Small on the wire, large once decoded: never decoded past the bound.
        var bomb = Encoding.UTF8.GetBytes("""{"configs":{"pad":" """ + new string(' ', 1024 * 1024) + "\"}}");
        Assert.True(Gzip.Compress(bomb).Length < ConfigMemory.MaxEntryBytes);
        Assert.False(ConfigBody.HasConfigsObject(Gzip.Compress(bomb), "gzip", ConfigMemory.MaxEntryBytes));

        Assert.False(ConfigBody.HasConfigsObject(config, "gzip", ConfigMemory.MaxEntryBytes));
        Assert.False(ConfigBody.HasConfigsObject(Gzip.Compress(config), "zstd", ConfigMemory.MaxEntryBytes));
    }
}
