using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;

namespace ReplayProxy.Functions.Tests;

public class HostJsonTests
{
    private static JsonElement HostJson() => JsonDocument.Parse(File.ReadAllText(Repo.PathOf("host.json"))).RootElement;

    [Fact]
    public void Is_version_2()
    {
        Assert.Equal("2.0", HostJson().GetProperty("version").GetString());
    }

    [Fact]
    public void Route_prefix_is_empty_so_paths_are_the_SDKs()
    {
        var prefix = HostJson().GetProperty("extensions").GetProperty("http").GetProperty("routePrefix");
        Assert.Equal(JsonValueKind.String, prefix.ValueKind);
        Assert.Equal(string.Empty, prefix.GetString());
    }

    [Fact]
    public void Telemetry_goes_through_OpenTelemetry()
    {
        Assert.Equal("OpenTelemetry", HostJson().GetProperty("telemetryMode").GetString());
    }

    [Fact]
    public void Function_timeout_is_bounded_and_above_the_HTTP_cap()
    {
        var timeout = TimeSpan.Parse(HostJson().GetProperty("functionTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(timeout, TimeSpan.FromSeconds(230), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public void Request_url_log_category_is_held_at_warning_or_above()
    {
        var levels = HostJson().GetProperty("logging").GetProperty("logLevel");
        Assert.Contains(levels.GetProperty(ReplayProxyLogging.HostingDiagnosticsCategory).GetString(), new[] { "Warning", "Error", "Critical", "None" });
    }
}
