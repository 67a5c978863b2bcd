namespace ReplayProxy.Tests.Unit;

public sealed class SettingsValidationTests
{
    private static IReadOnlyList<string> Errors(Action<ReplayProxyOptions> change)
    {
        var options = new ReplayProxyOptions();
        change(options);
        var result = new ReplayProxyOptionsValidator().Validate(null, options);
        return result.Failed ? result.Failures!.ToList() : [];
    }

    [Fact]
    public void Defaults_are_valid() => Assert.Empty(Errors(_ => { }));

    [Theory]
    [InlineData("US")]
    [InlineData("eu")]
    [InlineData("Eu")]
    public void Known_regions_in_any_case_are_valid(string region) => Assert.Empty(Errors(o => o.Region = region));

    [Theory]
    [InlineData("Region", "APAC")]
    [InlineData("Upstreams:Replay", "api-sr.amplitude.com")]
    [InlineData("Upstreams:Config", "/relative")]
    [InlineData("Upstreams:Analytics", "ftp://example.com")]
    [InlineData("Upstreams:Replay", "https://example.com/?x=1")]
    [InlineData("Upstreams:Replay", "https://user:pass@example.com")]
    [InlineData("AllowedOrigins", "*")]
    [InlineData("AllowedOrigins", "https://a.example/path")]
    [InlineData("AllowedOrigins", "a.example")]
    [InlineData("AllowedApiKeys", "key with space")]
    [InlineData("AllowedApiKeys", "*,key1")]
    [InlineData("AllowedApiKeys", "key1, *")]
    [InlineData("AllowedApiKeys", "**")]
    [InlineData("FrontDoorId", "not-a-guid")]
    [InlineData("UpstreamTimeoutSeconds", "0")]
    [InlineData("UpstreamTimeoutSeconds", "226")]
    [InlineData("MaxRequestBodyBytes", "-1")]
    [InlineData("UpstreamHeaders:Host", "evil.example")]
    [InlineData("UpstreamHeaders:X-Ok", "a\nb")]
    public void Invalid_settings_fail_with_a_message_that_names_the_setting(string setting, string value)
    {
        var errors = Errors(o =>
        {
            switch (setting)
            {
                case "Region": o.Region = value; break;
                case "Upstreams:Replay": o.Upstreams.Replay = value; break;
                case "Upstreams:Config": o.Upstreams.Config = value; break;
                case "Upstreams:Analytics": o.Upstreams.Analytics = value; break;
                case "AllowedOrigins": o.AllowedOrigins = value; break;
                case "AllowedApiKeys": o.AllowedApiKeys = value; break;
                case "FrontDoorId": o.FrontDoorId = value; break;
                case "UpstreamTimeoutSeconds": o.UpstreamTimeoutSeconds = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "MaxRequestBodyBytes": o.MaxRequestBodyBytes = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                default: o.UpstreamHeaders[setting["UpstreamHeaders:".Length..]] = value; break;
            }
        });

        var error = Assert.Single(errors);
        Assert.StartsWith("ReplayProxy:" + setting, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*")]
    [InlineData(" * ")]
    [InlineData("")]
    public void Star_alone_or_an_empty_list_is_valid(string keys) => Assert.Empty(Errors(o => o.AllowedApiKeys = keys));

    [Fact]
    public void Star_mixed_with_keys_is_refused_saying_it_must_stand_alone() =>
        Assert.Contains("mixes '*' with keys", Assert.Single(Errors(o => o.AllowedApiKeys = "k1,*")), StringComparison.Ordinal);

    [Fact]
    public void Valid_lists_and_overrides_pass()
    {
        Assert.Empty(Errors(o =>
        {
            o.AllowedOrigins = "https://www.example.com, http://localhost:3000";
            o.AllowedApiKeys = "aaaabbbbccccddddeeeeffff00001111,second_key";
            o.FrontDoorId = Guid.NewGuid().ToString();
            o.Upstreams.Replay = "http://127.0.0.1:9000/staging";
            o.UpstreamHeaders["X-Proxy-Auth"] = "secret";
        }));
    }

    [Theory]
    [InlineData("US", UpstreamKind.Replay, "api-sr.amplitude.com")]
    [InlineData("US", UpstreamKind.Config, "sr-client-cfg.amplitude.com")]
    [InlineData("US", UpstreamKind.Analytics, "api2.amplitude.com")]
    [InlineData("eu", UpstreamKind.Replay, "api-sr.eu.amplitude.com")]
    [InlineData("EU", UpstreamKind.Config, "sr-client-cfg.eu.amplitude.com")]
    [InlineData("EU", UpstreamKind.Analytics, "api.eu.amplitude.com")]
    public void Region_selects_amplitudes_hosts(string region, UpstreamKind kind, string host)
    {
        var settings = new ReplayProxySettings(new ReplayProxyOptions { Region = region });

        var upstream = settings.For(kind);

        Assert.Equal(host, upstream.Host);
        Assert.Equal(443, upstream.Port);
        Assert.Equal($"https://{host}/sessions/v2/track?a=%2F", upstream.Target("/sessions/v2/track", "?a=%2F").OriginalString);
    }

    [Fact]
    public void An_override_replaces_only_its_own_host()
    {
        var settings = new ReplayProxySettings(new ReplayProxyOptions { Region = "EU", Upstreams = { Config = "http://127.0.0.1:9000/base/" } });

        Assert.Equal("127.0.0.1", settings.ConfigUpstream.Host);
        Assert.Equal("http://127.0.0.1:9000/base/config/k?x=1", settings.ConfigUpstream.Target("/config/k", "?x=1").OriginalString);
        Assert.Equal("api-sr.eu.amplitude.com", settings.ReplayUpstream.Host);
        Assert.Equal("api.eu.amplitude.com", settings.AnalyticsUpstream.Host);
    }
}
