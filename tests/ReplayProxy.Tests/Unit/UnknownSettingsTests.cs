using Microsoft.Extensions.Configuration;

namespace ReplayProxy.Tests.Unit;

public sealed class UnknownSettingsTests
{
    private static IReadOnlyList<string> Errors(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create<string, string?>(s.Key, s.Value)))
            .Build();
        var result = new UnknownSettingsValidator(configuration.GetSection(ReplayProxyOptions.SectionName)).Validate(null, new ReplayProxyOptions());
        return result.Failed ? result.Failures!.ToList() : [];
    }

    [Fact]
    public void Every_setting_in_any_case_and_any_upstream_header_name_is_known() => Assert.Empty(Errors(
        ("ReplayProxy:Region", "EU"),
        ("replayproxy:allowedorigins", "https://a.example"),
        ("ReplayProxy:AllowedApiKeys", "k"),
        ("ReplayProxy:FrontDoorId", ""),
        ("ReplayProxy:UpstreamTimeoutSeconds", "5"),
        ("ReplayProxy:MaxRequestBodyBytes", "10"),
        ("ReplayProxy:Upstreams:Replay", "http://127.0.0.1:1"),
        ("ReplayProxy:upstreams:config", "http://127.0.0.1:1"),
        ("ReplayProxy:Upstreams:Analytics", "http://127.0.0.1:1"),
        ("ReplayProxy:UpstreamHeaders:X-Anything-At-All", "v"),
        ("Other:Section", "not ours")));

    [Fact]
    public void Every_property_of_the_options_is_a_known_setting()
    {
        // A setting added to ReplayProxyOptions but not to the validator would refuse itself at start.
        var keys = typeof(ReplayProxyOptions).GetProperties()
            .SelectMany(p => p.PropertyType == typeof(UpstreamOverrides)
                ? typeof(UpstreamOverrides).GetProperties().Select(child => $"ReplayProxy:{p.Name}:{child.Name}")
                : p.PropertyType == typeof(Dictionary<string, string>) ? [$"ReplayProxy:{p.Name}:X-Any"] : [$"ReplayProxy:{p.Name}"])
            .Select(key => (key, "1"))
            .ToArray();

        Assert.True(keys.Length > 10);
        Assert.Empty(Errors(keys));
    }

    [Theory]
    [InlineData("ReplayProxy:Regoin")]
    [InlineData("ReplayProxy:Upstreams:Replays")]
    [InlineData("ReplayProxy:Region:Extra")]
    [InlineData("ReplayProxy:UpstreamHeader")]
    public void A_key_no_setting_reads_is_refused_by_name(string key)
    {
        var error = Assert.Single(Errors((key, "x")));

        Assert.StartsWith(key + " is not a setting", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_unknown_key_is_named()
    {
        var errors = Errors(("ReplayProxy:Regoin", "EU"), ("ReplayProxy:MaxBody", "1"));

        Assert.Equal(2, errors.Count);
    }
}
