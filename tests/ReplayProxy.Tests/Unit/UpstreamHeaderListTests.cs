using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ReplayProxy.Tests.Unit;

/// <summary>
/// The list form of upstream headers (<c>UpstreamHeaders:0:Name</c>, <c>:Value</c>), which Azure app settings can
/// hold, beside the map form (<c>UpstreamHeaders:X-Proxy-Auth</c>): bound and validated as <c>AddReplayProxy</c> does.
/// </summary>
public sealed class UpstreamHeaderListTests
{
    private static (ReplayProxySettings? Settings, IReadOnlyList<string> Errors) Bind(params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create("ReplayProxy:" + s.Key, s.Value)))
            .Build();
        using var services = new ServiceCollection().AddReplayProxy(configuration).BuildServiceProvider();
        try
        {
            return (new ReplayProxySettings(services.GetRequiredService<IOptions<ReplayProxyOptions>>()), []);
        }
        catch (OptionsValidationException e)
        {
            return (null, e.Failures.ToList());
        }
    }

    [Fact]
    public void List_entries_and_map_entries_are_both_sent()
    {
        var (settings, errors) = Bind(
            ("UpstreamHeaders:0:Name", "X-Proxy-Auth"),
            ("UpstreamHeaders:0:Value", "s3cret"),
            ("UpstreamHeaders:1:name", "X-Gateway"),
            ("UpstreamHeaders:1:value", ""),
            ("UpstreamHeaders:X-Tenant", "acme"));

        Assert.Empty(errors);
        Assert.Equal(
            [("X-Gateway", ""), ("X-Proxy-Auth", "s3cret"), ("X-Tenant", "acme")],
            settings!.ExtraUpstreamHeaders.Select(h => (h.Key, h.Value)).OrderBy(h => h.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void A_digit_key_with_a_value_only_is_a_header_of_that_name()
    {
        var (settings, errors) = Bind(("UpstreamHeaders:0", "zero"));

        Assert.Empty(errors);
        Assert.Equal(("0", "zero"), (Assert.Single(settings!.ExtraUpstreamHeaders).Key, Assert.Single(settings.ExtraUpstreamHeaders).Value));
    }

    [Theory]
    [InlineData("Host")]
    [InlineData("content-length")]
    [InlineData("Content-Type")]
    [InlineData("Cookie")]
    [InlineData("X-Forwarded-For")]
    [InlineData("Connection")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Keep-Alive")]
    [InlineData("bad name")]
    public void A_forbidden_or_malformed_name_is_refused_naming_the_entry(string name)
    {
        var (_, errors) = Bind(("UpstreamHeaders:0:Name", name), ("UpstreamHeaders:0:Value", "v"));

        var error = Assert.Single(errors);
        Assert.StartsWith($"ReplayProxy:UpstreamHeaders:0:Name ('{name}') ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_with_a_line_break_is_refused_naming_the_value_setting()
    {
        var (_, errors) = Bind(("UpstreamHeaders:3:Name", "X-Ok"), ("UpstreamHeaders:3:Value", "a\r\nInjected: 1"));

        Assert.StartsWith("ReplayProxy:UpstreamHeaders:3:Value must have a value without CR", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Name", "ReplayProxy:UpstreamHeaders:0:Value is missing")]
    [InlineData("Value", "ReplayProxy:UpstreamHeaders:0:Name is missing")]
    public void An_entry_without_its_name_or_value_is_refused(string given, string message)
    {
        var (_, errors) = Bind(($"UpstreamHeaders:0:{given}", "X-Only"));

        Assert.StartsWith(message, Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_given_twice_is_refused_naming_both_settings()
    {
        var (_, errors) = Bind(
            ("UpstreamHeaders:X-Proxy-Auth", "map"),
            ("UpstreamHeaders:0:Name", "x-proxy-auth"),
            ("UpstreamHeaders:0:Value", "list"),
            ("UpstreamHeaders:1:Name", "X-Tenant"),
            ("UpstreamHeaders:1:Value", "a"),
            ("UpstreamHeaders:2:Name", "X-TENANT"),
            ("UpstreamHeaders:2:Value", "b"));

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("ReplayProxy:UpstreamHeaders:0:Name sets 'x-proxy-auth', which ReplayProxy:UpstreamHeaders:X-Proxy-Auth already sets", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ReplayProxy:UpstreamHeaders:2:Name sets 'X-TENANT', which ReplayProxy:UpstreamHeaders:1:Name already sets", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("UpstreamHeaders:0:Nmae")]
    [InlineData("UpstreamHeaders:X-Proxy-Auth:Name")]
    public void A_key_below_an_entry_that_no_setting_reads_is_refused(string key)
    {
        var (_, errors) = Bind(("UpstreamHeaders:0:Name", "X-A"), ("UpstreamHeaders:0:Value", "v"), (key, "x"));

        Assert.Contains(errors, e => e.StartsWith($"ReplayProxy:{key} is not a setting", StringComparison.Ordinal));
    }
}
