using Microsoft.Extensions.Configuration;
using ReplayProxy.Spool;

namespace ReplayProxy.Tests.Unit;

public sealed class SpoolSettingsTests
{
    private static IReadOnlyList<string> Errors(params (string Key, string Value)[] settings)
    {
        var options = new ReplayProxyOptions();
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create<string, string?>(s.Key, s.Value)))
            .Build()
            .Bind(options);
        var result = new SpoolOptionsValidator().Validate(null, options);
        return result.Failed ? result.Failures!.ToList() : [];
    }

    [Fact]
    public void Defaults_are_valid_and_spooling_is_off() => Assert.Empty(Errors());

    [Theory]
    [InlineData("Spool:AnswerWithinMilliseconds", "0", "ReplayProxy:Spool:AnswerWithinMilliseconds")]
    [InlineData("Spool:AnswerWithinMilliseconds", "60001", "ReplayProxy:Spool:AnswerWithinMilliseconds")]
    [InlineData("Spool:MaxAgeSeconds", "0", "ReplayProxy:Spool:MaxAgeSeconds")]
    [InlineData("Spool:MaxBytes", "0", "ReplayProxy:Spool:MaxBytes")]
    [InlineData("Spool:RetryMaxSeconds", "0", "ReplayProxy:Spool:RetryMaxSeconds")]
    [InlineData("Spool:BlobServiceUri", "http://account.blob.core.windows.net", "ReplayProxy:Spool:BlobServiceUri")]
    [InlineData("Spool:BlobServiceUri", "https://account.blob.core.windows.net/?sv=2020&sig=x", "ReplayProxy:Spool:BlobServiceUri")]
    [InlineData("Spool:BlobClientId", "not-a-guid", "ReplayProxy:Spool:BlobClientId")]
    public void Invalid_spool_settings_fail_naming_the_setting(string key, string value, string named)
    {
        var error = Assert.Single(Errors((key, value)));
        Assert.Contains(named, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_container_name_Blob_Storage_would_refuse_fails_at_start()
    {
        var error = Assert.Single(Errors(("Spool:BlobServiceUri", "https://a.blob.core.windows.net"), ("Spool:BlobContainerName", "Bad_Name")));
        Assert.Contains("ReplayProxy:Spool:BlobContainerName", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_stores_at_once_fail_at_start()
    {
        var error = Assert.Single(Errors(("Spool:Directory", "/tmp/x"), ("Spool:BlobServiceUri", "https://a.blob.core.windows.net")));
        Assert.Contains("ReplayProxy:Spool:Directory", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_spool_setting_is_refused()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create<string, string?>("ReplayProxy:Spool:Directroy", "/tmp/x")]).Build().GetSection("ReplayProxy");
        var result = new UnknownSettingsValidator(section).Validate(null, new ReplayProxyOptions());
        Assert.Contains("ReplayProxy:Spool:Directroy", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }
}
