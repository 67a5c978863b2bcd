using System.Text.Json;

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
    [InlineData("proxyPathLegacy", "/healthz", "PROXY_PATH_LEGACY", "on or under /healthz (health checks)")]
    [InlineData("proxyPathConfig", "/HealthZ/config", "PROXY_PATH_CONFIG", "on or under /healthz")]
    [InlineData("proxyPathHttpApi", "/eu/e", "PROXY_PATH_HTTPAPI", "/eu and /us (region prefixes)")]
    [InlineData("proxyPathTrack", "/r/", "PROXY_PATH_TRACK", "must not end with /")]
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

    /// <summary>tests/settings-validation-cases.json through app/validation.bicep, the functions main.bicep checks
    /// ALLOWED_ORIGINS and ALLOWED_API_KEYS with; ReplayProxy.Tests runs the same table through the proxy's validator.</summary>
    [Fact]
    public void TemplateAcceptsExactlyTheOriginsAndKeysTheProxyAccepts()
    {
        using var doc = JsonDocument.Parse(Repo.Read("tests", "settings-validation-cases.json"));
        string[] Values(string setting, string kind) => doc.RootElement.GetProperty(setting).GetProperty(kind).EnumerateArray().Select(v => v.GetString()!).ToArray();
        var origins = Values("allowedOrigins", "valid").Concat(Values("allowedOrigins", "invalid")).ToArray();
        var keys = Values("allowedApiKeys", "valid").Concat(Values("allowedApiKeys", "invalid")).ToArray();

        var harness = infra.TakeTemplate("validation-harness", """
            targetScope = 'subscription'
            import { isValidApiKeyList, isValidOriginList } from 'app/validation.bicep'
            param origins string[]
            param keys string[]
            output origins array = map(origins, value => isValidOriginList(value))
            output keys array = map(keys, value => isValidApiKeyList(value))
            """, new Dictionary<string, object> { ["origins"] = origins, ["keys"] = keys });

        bool[] Results(string output) => harness.Outputs.GetProperty(output).EnumerateArray().Select(v => v.GetBoolean()).ToArray();
        var expectedOrigins = origins.Select((_, i) => i < Values("allowedOrigins", "valid").Length).ToArray();
        var expectedKeys = keys.Select((_, i) => i < Values("allowedApiKeys", "valid").Length).ToArray();
        Assert.All(origins.Zip(Results("origins"), expectedOrigins), c => Assert.True(c.Second == c.Third, $"ALLOWED_ORIGINS '{c.First}': template says {(c.Second ? "valid" : "invalid")}"));
        Assert.All(keys.Zip(Results("keys"), expectedKeys), c => Assert.True(c.Second == c.Third, $"ALLOWED_API_KEYS '{c.First}': template says {(c.Second ? "valid" : "invalid")}"));
    }

    /// <summary>The "paths" of tests/settings-validation-cases.json through app/validation.bicep's per-path rule;
    /// ReplayProxy.Tests runs them through the proxy's validator.</summary>
    [Fact]
    public void TemplateAcceptsExactlyThePathsTheProxyAccepts()
    {
        using var doc = JsonDocument.Parse(Repo.Read("tests", "settings-validation-cases.json"));
        var valid = doc.RootElement.GetProperty("paths").GetProperty("valid").EnumerateArray().ToArray();
        var cases = valid.Concat(doc.RootElement.GetProperty("paths").GetProperty("invalid").EnumerateArray())
            .Select(pair => new[] { pair[0].GetString()!, pair[1].GetString()! }).ToArray();

        var harness = infra.TakeTemplate("path-validation-harness", """
            targetScope = 'subscription'
            import { publicPathProblem } from 'app/validation.bicep'
            param names string[]
            param paths string[]
            output problems array = map(range(0, length(names)), i => publicPathProblem(names[i], paths[i]))
            """, new Dictionary<string, object> { ["names"] = cases.Select(c => c[0]).ToArray(), ["paths"] = cases.Select(c => c[1]).ToArray() });

        var problems = harness.Outputs.GetProperty("problems").EnumerateArray().Select(v => v.GetString()!).ToArray();
        for (var i = 0; i < cases.Length; i++)
        {
            Assert.True(string.IsNullOrEmpty(problems[i]) == (i < valid.Length), $"PROXY_PATH_{cases[i][0].ToUpperInvariant()} '{cases[i][1]}': template says '{problems[i]}'");
        }
    }

    [Fact]
    public void APathUnderTheConfigPathIsRefused() =>
        Refused("path-under-config", new() { ["proxyPathConfig"] = "/c", ["proxyPathTrack"] = "/c/t" }, "PROXY_PATH_TRACK", "under PROXY_PATH_CONFIG");

    [Fact]
    public void OriginWithATrailingSlashIsRefusedNamingIt() =>
        Refused("origin-slash", new() { ["allowedOrigins"] = "https://www.example.com, https://app.example.com/" }, "ALLOWED_ORIGINS", "contains 'https://app.example.com/'", "no path or trailing slash");

    [Fact]
    public void OriginsWithOnlySeparatorsAreRefused() =>
        Refused("origin-empty", new() { ["allowedOrigins"] = " , " }, "ALLOWED_ORIGINS", "is empty");

    [Fact]
    public void MalformedApiKeyIsRefusedWithoutEchoingIt()
    {
        Refused("key-malformed", new() { ["allowedApiKeys"] = "key1,secret key" }, "ALLOWED_API_KEYS", "characters other than letters, digits, - and _");
        Assert.DoesNotContain("secret key", infra.Take("key-malformed-2", new Dictionary<string, object?> { ["allowedApiKeys"] = "key1,secret key" }).Run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void StarMixedWithKeysIsRefused() =>
        Refused("key-star-mixed", new() { ["allowedApiKeys"] = "key1,*" }, "ALLOWED_API_KEYS", "mixes * with keys");

    [Fact]
    public void DeeperSubdomainAndMixedCaseStayInsideTheZone()
    {
        var snapshot = infra.Take("deep-subdomain", new Dictionary<string, object?> { ["customDomainName"] = "Replay.EU.example.com", ["dnsZoneName"] = "Example.com" });
        Assert.EndsWith("/dnsZones/Example.com/CNAME/Replay.EU", snapshot.Single("Microsoft.Network/dnsZones/CNAME").GetProperty("id").GetString(), StringComparison.Ordinal);
    }
}
