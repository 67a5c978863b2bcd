using System.Text.RegularExpressions;

namespace ReplayProxy.Infrastructure.Tests;

public class FrontDoorTests
{
    private static string MainBicep() => Bicep.StripComments(Repo.Read("infra", "main.bicep"));

    [Fact]
    public void ProfileIsFrontDoorStandard()
    {
        var profile = Bicep.Single("Microsoft.Cdn/profiles").Body;
        Assert.Matches(@"sku:\s*\{\s*name:\s*'Standard_AzureFrontDoor'\s*\}", profile);
        Assert.Matches(@"location:\s*'global'", profile);
        Assert.Matches(@"originResponseTimeoutSeconds:\s*originResponseTimeoutSeconds", profile);
    }

    [Fact]
    public void RouteForwardsEverythingOverHttpsWithRedirectAndNoCaching()
    {
        var route = Bicep.Single("Microsoft.Cdn/profiles/afdEndpoints/routes").Body;
        Assert.Matches(@"patternsToMatch:\s*\[\s*'/\*'\s*\]", route);
        Assert.Matches(@"supportedProtocols:\s*\[\s*'Http'\s+'Https'\s*\]", route);
        Assert.Matches(@"forwardingProtocol:\s*'HttpsOnly'", route);
        Assert.Matches(@"httpsRedirect:\s*'Enabled'", route);
        Assert.Matches(@"linkToDefaultDomain:\s*'Enabled'", route);
        Assert.Matches(@"originGroup:\s*\{\s*id:\s*originGroup\.id\s*\}", route);
        Assert.Matches(@"customDomains:\s*useCustomDomain", route);
        // No cache configuration and no rule sets (which could add caching) anywhere.
        foreach (var (path, text) in Repo.BicepFiles())
        {
            var code = Bicep.StripComments(text);
            Assert.False(code.Contains("cacheConfiguration", StringComparison.Ordinal), $"{path} configures caching");
            Assert.False(code.Contains("Microsoft.Cdn/profiles/ruleSets", StringComparison.OrdinalIgnoreCase), $"{path} declares a rule set");
        }
    }

    [Fact]
    public void OriginIsTheFunctionAppWithMatchingHostHeaderAndCertificateCheck()
    {
        var origin = Bicep.Single("Microsoft.Cdn/profiles/originGroups/origins").Body;
        Assert.Matches(@"hostName:\s*originHostName", origin);
        Assert.Matches(@"originHostHeader:\s*originHostName", origin);
        Assert.Matches(@"enforceCertificateNameCheck:\s*true", origin);
        Assert.Matches(@"originHostName:\s*api\.outputs\.defaultHostName", MainBicep());
    }

    [Fact]
    public void SingleOriginGroupHasNoProbesOrProbesHealthzWithHead()
    {
        var group = Bicep.Single("Microsoft.Cdn/profiles/originGroups").Body;
        Assert.Single(Bicep.AllResources(), r => r.Type.Equals("Microsoft.Cdn/profiles/originGroups/origins", StringComparison.OrdinalIgnoreCase));
        var probe = Bicep.ValueOf(group, "healthProbeSettings");
        if (probe is not null)
        {
            Assert.Matches(@"probePath:\s*'/healthz'", probe);
            Assert.Matches(@"probeRequestType:\s*'HEAD'", probe);
        }
    }

    [Fact]
    public void CustomDomainIsOptionalWithAManagedTls12Certificate()
    {
        var domain = Bicep.Single("Microsoft.Cdn/profiles/customDomains");
        var frontDoor = Bicep.StripComments(Repo.Read("infra", "app", "frontdoor.bicep"));
        Assert.Matches(@"resource\s+customDomain\s+'[^']+'\s*=\s*if\s*\(useCustomDomain\)", frontDoor);
        Assert.Matches(@"var\s+useCustomDomain\s*=\s*!empty\(customDomainName\)", frontDoor);
        Assert.Matches(@"certificateType:\s*'ManagedCertificate'", domain.Body);
        Assert.Matches(@"minimumTlsVersion:\s*'TLS12'", domain.Body);
        Assert.Matches(@"hostName:\s*customDomainName", domain.Body);
        Assert.Matches(@"(?m)^param\s+customDomainName\s+string\s*=\s*''", MainBicep());
    }

    [Fact]
    public void DnsRecordsGoToTheOptionalAzureDnsZoneInItsOwnResourceGroup()
    {
        var main = MainBicep();
        Assert.Matches(@"module\s+dnsRecords\s+'\./app/dns-records\.bicep'\s*=\s*if\s*\(manageDnsRecords\)", main);
        Assert.Matches(@"var\s+manageDnsRecords\s*=\s*useCustomDomain\s*&&\s*!empty\(dnsZoneName\)", main);
        Assert.Matches(@"scope:\s*resourceGroup\(dnsZoneResourceGroup\)", main);
        Assert.Matches(@"cnameTarget:\s*frontDoor\.outputs\.endpointHostName", main);
        Assert.Matches(@"validationToken:\s*frontDoor\.outputs\.customDomainValidationToken", main);

        var cname = Bicep.Single("Microsoft.Network/dnsZones/CNAME").Body;
        Assert.Matches(@"cname:\s*cnameTarget", cname);
        var txt = Bicep.Single("Microsoft.Network/dnsZones/TXT").Body;
        Assert.Matches(@"name:\s*'_dnsauth\.\$\{relativeName\}'", txt);
        Assert.Matches(@"value:\s*\[\s*validationToken\s*\]", txt);
        Bicep.Single("Microsoft.Network/dnsZones", existing: true);

        // Without a zone the records are output for the user to create.
        Assert.Matches(@"output\s+CUSTOM_DOMAIN_VALIDATION_RECORD_NAME\s+string\s*=\s*useCustomDomain\s*\?\s*'_dnsauth\.\$\{customDomainName\}'", main);
    }

    [Fact]
    public void WafIsStandardInPreventionModeWithAPerIpRateLimit()
    {
        var waf = Bicep.Single("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies").Body;
        Assert.Matches(@"sku:\s*\{\s*name:\s*'Standard_AzureFrontDoor'\s*\}", waf);
        Assert.Matches(@"enabledState:\s*'Enabled'\s+mode:\s*'Prevention'", waf);
        Assert.Matches(@"ruleType:\s*'RateLimitRule'", waf);
        Assert.Matches(@"rateLimitDurationInMinutes:\s*1\s", waf);
        Assert.Matches(@"rateLimitThreshold:\s*wafRateLimitPerMinute", waf);
        Assert.Matches(@"groupBy:\s*\[\s*\{\s*variableName:\s*'SocketAddr'\s*\}\s*\]", waf);
        Assert.Matches(@"action:\s*'Block'", waf);
        // Standard cannot run managed rule sets.
        Assert.Matches(@"managedRuleSets:\s*\[\s*\]", waf);
        Assert.Matches(@"wafRateLimitPerMinute:\s*wafRateLimitPerMinute", MainBicep());
    }

    [Fact]
    public void WafPolicyNameIsLettersAndDigitsOnly()
    {
        var waf = Bicep.Single("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies").Body;
        Assert.Matches(@"(?m)^\s*name:\s*wafPolicyName\s*$", waf);
        var main = MainBicep();
        var name = Regex.Match(main, @"var\s+wafPolicyName\s*=\s*'([^']*)'");
        Assert.True(name.Success, "main.bicep should define wafPolicyName as a string");
        var template = name.Groups[1].Value;
        var interpolations = Regex.Matches(template, @"\$\{(\w+)\}").Select(m => m.Groups[1].Value).ToList();
        Assert.All(interpolations, v => Assert.Equal("resourceToken", v));
        Assert.Matches(@"^[A-Za-z][A-Za-z0-9]*$", Regex.Replace(template, @"\$\{\w+\}", string.Empty));
        // resourceToken is uniqueString output: lowercase letters and digits.
        Assert.Matches(@"var\s+resourceToken\s*=\s*toLower\(uniqueString\(", main);
        Assert.Matches(@"wafPolicyName:\s*wafPolicyName", main);
    }

    [Fact]
    public void SecurityPolicyAttachesTheWafToTheEndpointAndCustomDomain()
    {
        var policy = Bicep.Single("Microsoft.Cdn/profiles/securityPolicies").Body;
        Assert.Matches(@"type:\s*'WebApplicationFirewall'", policy);
        Assert.Matches(@"wafPolicy:\s*\{\s*id:\s*wafPolicy\.id\s*\}", policy);
        Assert.Matches(@"id:\s*endpoint\.id", policy);
        Assert.Matches(@"id:\s*customDomain\.id", policy);
        Assert.Matches(@"patternsToMatch:\s*\[\s*'/\*'\s*\]", policy);
    }

    [Fact]
    public void FrontDoorAccessAndWafLogsGoToLogAnalytics()
    {
        var logs = Bicep.Single("Microsoft.Insights/diagnosticSettings");
        Assert.Matches(@"scope:\s*profile\s*$", logs.Body.Split('\n').First(l => l.Contains("scope:", StringComparison.Ordinal)));
        Assert.Matches(@"workspaceId:\s*logAnalyticsWorkspaceId", logs.Body);
        Assert.Matches(@"category:\s*'FrontDoorAccessLog'\s+enabled:\s*true", logs.Body);
        Assert.Matches(@"category:\s*'FrontDoorWebApplicationFirewallLog'\s+enabled:\s*true", logs.Body);
        Assert.Matches(@"logAnalyticsWorkspaceId:\s*monitoring\.outputs\.logAnalyticsWorkspaceId", MainBicep());
    }
}
