namespace ReplayProxy.Infrastructure.Tests;

/// <summary>Settings the template refuses before it creates anything, each with a message naming the azd value.</summary>
[Collection(InfraCollection.Name)]
public class ValidationTests(InfraFixture infra)
{
    private void Refused(string name, Dictionary<string, object?> changes, params string[] messageParts)
    {
        var snapshot = infra.Take(name, changes);
        Assert.False(snapshot.Succeeded, $"{name}: the template accepted {string.Join(", ", changes.Select(c => $"{c.Key}={c.Value}"))}");
        Assert.All(messageParts, part => Assert.Contains(part, snapshot.Run.Output, StringComparison.Ordinal));
    }

    [Fact]
    public void DnsZoneWithoutItsResourceGroupIsRefused() =>
        Refused("zone-without-rg", new() { ["dnsZoneResourceGroupName"] = null }, "DNS_ZONE_RESOURCE_GROUP", "is required when dnsZoneName (DNS_ZONE_NAME) is set");

    [Fact]
    public void DnsZoneInTheAppsOwnResourceGroupIsRefused() =>
        Refused("zone-in-app-rg", new() { ["dnsZoneResourceGroupName"] = "RG-ci" }, "DNS_ZONE_RESOURCE_GROUP", "must not be the resource group this template creates (rg-ci)");

    [Fact]
    public void CustomDomainOutsideTheZoneIsRefused() =>
        Refused("domain-outside-zone", new() { ["customDomainName"] = "replay.notexample.com" }, "CUSTOM_DOMAIN", "'replay.notexample.com' must be a subdomain inside dnsZoneName (DNS_ZONE_NAME) 'example.com'");

    [Fact]
    public void ZoneApexAsCustomDomainIsRefused() =>
        Refused("domain-is-apex", new() { ["customDomainName"] = "example.com" }, "CUSTOM_DOMAIN", "the zone apex cannot take a CNAME");

    [Fact]
    public void UnknownAmplitudeRegionIsRefused() =>
        Refused("region-apac", new() { ["amplitudeRegion"] = "APAC" }, "AMPLITUDE_REGION", "'APAC'; allowed values are US and EU");

    [Fact]
    public void MaximumInstanceCountBelowTheFlexMinimumIsRefused() =>
        Refused("max-instances-39", new() { ["maximumInstanceCount"] = 39 }, "minimum allowable value is 40");

    [Fact]
    public void UpstreamTimeoutAboveWhatTheProxyAcceptsIsRefused() =>
        Refused("upstream-226", new() { ["upstreamTimeoutSeconds"] = 226 }, "maximum allowable value is 225");

    [Theory]
    [InlineData("proxyPathTrack", "sessions/v2/track", "PROXY_PATH_TRACK", "a path must start with /")]
    [InlineData("proxyPathBatch", "/R/C", "PROXY_PATH_", "which another PROXY_PATH_* value also is")]
    [InlineData("proxyPathLegacy", "/healthz", "PROXY_PATH_LEGACY", "/healthz and paths under it are the proxy's health checks")]
    [InlineData("proxyPathConfig", "/HealthZ/config", "PROXY_PATH_CONFIG", "/healthz and paths under it")]
    public void UnusablePublicPathsAreRefused(string parameter, string value, string named, string message) =>
        Refused("path-" + parameter, new() { [parameter] = value }, named, message);

    [Fact]
    public void DefaultPublicPathsAreTheSdksOwn()
    {
        var defaults = infra.Take("default-paths", new Dictionary<string, object?>
        {
            ["proxyPathTrack"] = null, ["proxyPathConfig"] = null, ["proxyPathHttpApi"] = null, ["proxyPathBatch"] = null, ["proxyPathLegacy"] = null,
        });
        Assert.Equal("https://replay.example.com/sessions/v2/track", defaults.Output("PROXY_TRACK_URL"));
        Assert.Equal("https://replay.example.com/config", defaults.Output("PROXY_CONFIG_URL"));
        Assert.Equal("https://replay.example.com/2/httpapi", defaults.Output("PROXY_HTTPAPI_URL"));
        Assert.Equal("https://replay.example.com/batch", defaults.Output("PROXY_BATCH_URL"));
        Assert.Equal("https://replay.example.com/", defaults.Output("PROXY_LEGACY_URL"));
    }

    [Fact]
    public void DeeperSubdomainAndMixedCaseStayInsideTheZone()
    {
        var snapshot = infra.Take("deep-subdomain", new Dictionary<string, object?> { ["customDomainName"] = "Replay.EU.example.com", ["dnsZoneName"] = "Example.com" });
        Assert.EndsWith("/dnsZones/Example.com/CNAME/Replay.EU", snapshot.Single("Microsoft.Network/dnsZones/CNAME").GetProperty("id").GetString(), StringComparison.Ordinal);
    }
}
