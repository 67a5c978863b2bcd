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

    [Fact]
    public void DeeperSubdomainAndMixedCaseStayInsideTheZone()
    {
        var snapshot = infra.Take("deep-subdomain", new Dictionary<string, object?> { ["customDomainName"] = "Replay.EU.example.com", ["dnsZoneName"] = "Example.com" });
        Assert.EndsWith("/dnsZones/Example.com/CNAME/Replay.EU", snapshot.Single("Microsoft.Network/dnsZones/CNAME").GetProperty("id").GetString(), StringComparison.Ordinal);
    }
}
