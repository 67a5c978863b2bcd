using System.Text;
using System.Text.Json;

namespace ReplayProxy.Infrastructure.Tests;

[Collection(InfraCollection.Name)]
public class FrontDoorTests(InfraFixture infra)
{
    private JsonElement Resource(string type) => infra.Deployed.Single(type);

    private static JsonElement Props(JsonElement resource) => resource.GetProperty("properties");

    private static string Id(JsonElement resource) => resource.GetProperty("id").GetString()!;

    private static IEnumerable<string> Ids(JsonElement array) => array.EnumerateArray().Select(e => e.GetProperty("id").GetString()!);

    [Fact]
    public void ProfileIsFrontDoorStandard()
    {
        var profile = Resource("Microsoft.Cdn/profiles");
        Assert.Equal("Standard_AzureFrontDoor", profile.GetProperty("sku").GetProperty("name").GetString());
        Assert.Equal("global", profile.GetProperty("location").GetString());
        Assert.Equal(90, Props(profile).GetProperty("originResponseTimeoutSeconds").GetInt32());
    }

    [Fact]
    public void RouteForwardsEverythingOverHttpsWithRedirectAndNoCaching()
    {
        var route = Props(Resource("Microsoft.Cdn/profiles/afdEndpoints/routes"));
        Assert.Equal(["/*"], route.GetProperty("patternsToMatch").EnumerateArray().Select(p => p.GetString()!));
        Assert.Equal(["Http", "Https"], route.GetProperty("supportedProtocols").EnumerateArray().Select(p => p.GetString()!));
        Assert.Equal("HttpsOnly", route.GetProperty("forwardingProtocol").GetString());
        Assert.Equal("Enabled", route.GetProperty("httpsRedirect").GetString());
        Assert.Equal("Enabled", route.GetProperty("linkToDefaultDomain").GetString());
        Assert.Equal(Id(Resource("Microsoft.Cdn/profiles/originGroups")), route.GetProperty("originGroup").GetProperty("id").GetString());
        Assert.Equal([Id(Resource("Microsoft.Cdn/profiles/customDomains"))], Ids(route.GetProperty("customDomains")));
        // Everything is dynamic, per-user traffic: no cache configuration, and no rule that could add caching.
        Assert.False(route.TryGetProperty("cacheConfiguration", out _));
        Assert.DoesNotContain("cacheConfiguration", infra.TemplateText, StringComparison.Ordinal);
        Assert.DoesNotContain("RouteConfigurationOverride", infra.TemplateText, StringComparison.Ordinal);
        Assert.Equal([Id(Resource("Microsoft.Cdn/profiles/ruleSets"))], Ids(route.GetProperty("ruleSets")));
    }

    /// <summary>On Flex the Functions host answers preflights with no max-age, so browsers would repeat one before
    /// nearly every upload; Front Door adds Chromium's cap to answers of OPTIONS requests, and to nothing else.</summary>
    [Fact]
    public void PreflightAnswersGetAccessControlMaxAgeAtTheEdge()
    {
        var rule = Resource("Microsoft.Cdn/profiles/ruleSets/rules");
        Assert.StartsWith(Id(Resource("Microsoft.Cdn/profiles/ruleSets")) + "/rules/", Id(rule), StringComparison.Ordinal);
        AssertPreflightRule(Props(rule));

        // The same in the compiled template, whatever the parameters.
        var compiled = ArmTemplate.Single(ArmTemplate.Module(infra.Template, "frontdoor").Properties.GetProperty("template"), "Microsoft.Cdn/profiles/ruleSets/rules");
        AssertPreflightRule(compiled.Properties);
        Assert.Null(compiled.Condition);
    }

    private static void AssertPreflightRule(JsonElement rule)
    {
        var condition = Assert.Single(rule.GetProperty("conditions").EnumerateArray());
        Assert.Equal("RequestMethod", condition.GetProperty("name").GetString());
        var match = condition.GetProperty("parameters");
        Assert.Equal("DeliveryRuleRequestMethodConditionParameters", match.GetProperty("typeName").GetString());
        Assert.Equal("Equal", match.GetProperty("operator").GetString());
        Assert.False(match.GetProperty("negateCondition").GetBoolean());
        Assert.Equal(["OPTIONS"], match.GetProperty("matchValues").EnumerateArray().Select(v => v.GetString()!));

        var action = Assert.Single(rule.GetProperty("actions").EnumerateArray());
        Assert.Equal("ModifyResponseHeader", action.GetProperty("name").GetString());
        var header = action.GetProperty("parameters");
        Assert.Equal("DeliveryRuleHeaderActionParameters", header.GetProperty("typeName").GetString());
        Assert.Contains(header.GetProperty("headerAction").GetString(), new[] { "Overwrite", "Append" });
        Assert.Equal("Access-Control-Max-Age", header.GetProperty("headerName").GetString());
        // Chromium caps the preflight cache at 7200 s.
        Assert.Equal("7200", header.GetProperty("value").GetString());
    }

    [Fact]
    public void OriginIsTheFunctionAppWithMatchingHostHeaderAndCertificateCheck()
    {
        var origin = Props(Resource("Microsoft.Cdn/profiles/originGroups/origins"));
        var siteHost = $"[reference('{Id(Resource("Microsoft.Web/sites"))}', '2025-03-01').defaultHostName]";
        Assert.Equal(siteHost, origin.GetProperty("hostName").GetString());
        Assert.Equal(siteHost, origin.GetProperty("originHostHeader").GetString());
        Assert.True(origin.GetProperty("enforceCertificateNameCheck").GetBoolean());
    }

    [Fact]
    public void SingleOriginGroupHasNoProbesOrProbesHealthzWithHead()
    {
        var group = Props(Resource("Microsoft.Cdn/profiles/originGroups"));
        Assert.Single(infra.Deployed.OfType("Microsoft.Cdn/profiles/originGroups/origins"));
        if (group.TryGetProperty("healthProbeSettings", out var probe))
        {
            Assert.Equal("/healthz", probe.GetProperty("probePath").GetString());
            Assert.Equal("HEAD", probe.GetProperty("probeRequestType").GetString());
        }
    }

    [Fact]
    public void CustomDomainHasAManagedTls12CertificateAndValidatesThroughTheAzureDnsZone()
    {
        var domain = Props(Resource("Microsoft.Cdn/profiles/customDomains"));
        Assert.Equal("replay.example.com", domain.GetProperty("hostName").GetString());
        Assert.Equal("ManagedCertificate", domain.GetProperty("tlsSettings").GetProperty("certificateType").GetString());
        Assert.Equal("TLS12", domain.GetProperty("tlsSettings").GetProperty("minimumTlsVersion").GetString());
        Assert.Equal(
            $"/subscriptions/{Snapshot.SubscriptionId}/resourceGroups/rg-dns/providers/Microsoft.Network/dnsZones/example.com",
            domain.GetProperty("azureDnsZone").GetProperty("id").GetString());
    }

    [Fact]
    public void DnsRecordsGoToTheAzureDnsZoneInItsOwnResourceGroup()
    {
        var zone = $"/subscriptions/{Snapshot.SubscriptionId}/resourceGroups/rg-dns/providers/Microsoft.Network/dnsZones/example.com";
        var cname = Resource("Microsoft.Network/dnsZones/CNAME");
        Assert.Equal($"{zone}/CNAME/replay", Id(cname));
        var endpoint = Id(Resource("Microsoft.Cdn/profiles/afdEndpoints"));
        Assert.Equal($"[reference('{endpoint}', '2026-07-01').hostName]", Props(cname).GetProperty("CNAMERecord").GetProperty("cname").GetString());

        var txt = Resource("Microsoft.Network/dnsZones/TXT");
        Assert.Equal($"{zone}/TXT/_dnsauth.replay", Id(txt));
        Assert.Equal("true", infra.Deployed.Output("CUSTOM_DOMAIN_DNS_MANAGED"));

        // The token only exists once the custom domain does: follow it through the compiled template instead.
        var dnsModule = ArmTemplate.Module(infra.Template, "dns-records");
        Assert.Equal("[reference('frontDoor').outputs.customDomainValidationToken.value]", ArmTemplate.ModuleParameter(dnsModule, "validationToken"));
        var txtTemplate = ArmTemplate.Single(dnsModule.Properties.GetProperty("template"), "Microsoft.Network/dnsZones/TXT");
        Assert.Equal("[parameters('validationToken')]", Assert.Single(Assert.Single(txtTemplate.Properties.GetProperty("TXTRecords").EnumerateArray()).GetProperty("value").EnumerateArray()).GetString());
        var frontDoor = ArmTemplate.Module(infra.Template, "frontdoor").Properties.GetProperty("template");
        Assert.Contains("validationProperties", frontDoor.GetProperty("outputs").GetProperty("customDomainValidationToken").GetProperty("value").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutACustomDomainThereIsNoDomainNorDnsRecordAndTheEndpointIsTheBaseUrl()
    {
        var plain = infra.Take("no-custom-domain", new Dictionary<string, object?> { ["customDomainName"] = null, ["dnsZoneName"] = null, ["dnsZoneResourceGroupName"] = null });
        Assert.Empty(plain.OfType("Microsoft.Cdn/profiles/customDomains"));
        Assert.Empty(plain.OfType("Microsoft.Network/dnsZones/CNAME"));
        Assert.Empty(plain.OfType("Microsoft.Network/dnsZones/TXT"));
        var route = Props(plain.Single("Microsoft.Cdn/profiles/afdEndpoints/routes"));
        Assert.Empty(route.GetProperty("customDomains").EnumerateArray());
        var policy = Props(plain.Single("Microsoft.Cdn/profiles/securityPolicies"));
        Assert.Equal([Id(plain.Single("Microsoft.Cdn/profiles/afdEndpoints"))], Ids(Assert.Single(policy.GetProperty("parameters").GetProperty("associations").EnumerateArray()).GetProperty("domains")));

        Assert.Equal(string.Empty, plain.Output("CUSTOM_DOMAIN_NAME"));
        Assert.Equal(string.Empty, plain.Output("CUSTOM_DOMAIN_VALIDATION_RECORD_NAME"));
        Assert.Equal(string.Empty, plain.Output("CUSTOM_DOMAIN_VALIDATION_RECORD_VALUE"));
        Assert.Equal(string.Empty, plain.Output("CUSTOM_DOMAIN_CNAME_TARGET"));
        Assert.Equal("false", plain.Output("CUSTOM_DOMAIN_DNS_MANAGED"));
        Assert.Equal($"[format('https://{{0}}', {plain.Output("FRONT_DOOR_ENDPOINT_HOSTNAME")[1..^1]})]", plain.Output("PROXY_BASE_URL"));
    }

    [Fact]
    public void WithoutAnAzureDnsZoneTheRecordsAreOutputForTheUserToCreate()
    {
        var external = infra.Take("external-dns", new Dictionary<string, object?> { ["dnsZoneName"] = null, ["dnsZoneResourceGroupName"] = null });
        Assert.Empty(external.OfType("Microsoft.Network/dnsZones/CNAME"));
        Assert.Empty(external.OfType("Microsoft.Network/dnsZones/TXT"));
        Assert.False(Props(external.Single("Microsoft.Cdn/profiles/customDomains")).TryGetProperty("azureDnsZone", out var zone) && zone.ValueKind != JsonValueKind.Null);
        Assert.Equal("_dnsauth.replay.example.com", external.Output("CUSTOM_DOMAIN_VALIDATION_RECORD_NAME"));
        Assert.Equal(external.Output("FRONT_DOOR_ENDPOINT_HOSTNAME"), external.Output("CUSTOM_DOMAIN_CNAME_TARGET"));
        Assert.Equal("false", external.Output("CUSTOM_DOMAIN_DNS_MANAGED"));
        Assert.Equal("https://replay.example.com", external.Output("PROXY_BASE_URL"));
    }

    [Fact]
    public void WafIsStandardInPreventionModeWithAPerIpRateLimit()
    {
        var waf = Resource("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies");
        Assert.Equal("Standard_AzureFrontDoor", waf.GetProperty("sku").GetProperty("name").GetString());
        var settings = Props(waf).GetProperty("policySettings");
        Assert.Equal("Enabled", settings.GetProperty("enabledState").GetString());
        Assert.Equal("Prevention", settings.GetProperty("mode").GetString());
        // Clients that see the 429 (server-side, mobile) retry it; the analytics SDK reads the outcome from the body's
        // code field. Browsers do not see it: the WAF's answer has no CORS headers (README, "Rate limit").
        Assert.Equal(429, settings.GetProperty("customBlockResponseStatusCode").GetInt32());
        using var body = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(settings.GetProperty("customBlockResponseBody").GetString()!)));
        Assert.Equal(429, body.RootElement.GetProperty("code").GetInt32());

        var rule = Assert.Single(Props(waf).GetProperty("customRules").GetProperty("rules").EnumerateArray());
        Assert.Equal("RateLimitRule", rule.GetProperty("ruleType").GetString());
        Assert.Equal("Enabled", rule.GetProperty("enabledState").GetString());
        Assert.Equal(1, rule.GetProperty("rateLimitDurationInMinutes").GetInt32());
        Assert.Equal(600, rule.GetProperty("rateLimitThreshold").GetInt32());
        Assert.Equal("SocketAddr", Assert.Single(rule.GetProperty("groupBy").EnumerateArray()).GetProperty("variableName").GetString());
        Assert.Equal("Block", rule.GetProperty("action").GetString());
        // Matches every request: no address is outside 0.0.0.0/0 and ::/0.
        var match = Assert.Single(rule.GetProperty("matchConditions").EnumerateArray());
        Assert.Equal("IPMatch", match.GetProperty("operator").GetString());
        Assert.False(match.GetProperty("negateCondition").GetBoolean());
        Assert.Equal(["0.0.0.0/0", "::/0"], match.GetProperty("matchValue").EnumerateArray().Select(v => v.GetString()!));
        // Standard cannot run managed rule sets.
        Assert.Empty(Props(waf).GetProperty("managedRules").GetProperty("managedRuleSets").EnumerateArray());
    }

    /// <summary>The default the README derives from the SDKs' upload rates is the one main.bicep and azd use, and it
    /// reaches the rule when WAF_RATE_LIMIT_PER_MINUTE is not set.</summary>
    [Fact]
    public void RateLimitDefaultIsTheDocumentedOne()
    {
        const int documented = 3000;
        Assert.Equal(documented, ArmTemplate.Parameter(infra.Template, "wafRateLimitPerMinute").GetProperty("defaultValue").GetInt32());
        Assert.Contains($"\"${{WAF_RATE_LIMIT_PER_MINUTE={documented}}}\"", Repo.Read("infra", "main.parameters.json"), StringComparison.Ordinal);
        var readme = Repo.Read("README.md");
        Assert.Contains($"| `WAF_RATE_LIMIT_PER_MINUTE` | `wafRateLimitPerMinute` | `{documented}` |", readme, StringComparison.Ordinal);
        Assert.Contains($"**Default {documented}**", readme, StringComparison.Ordinal);

        var byDefault = infra.Take("waf-default", new Dictionary<string, object?> { ["wafRateLimitPerMinute"] = null });
        var rule = Assert.Single(Props(byDefault.Single("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")).GetProperty("customRules").GetProperty("rules").EnumerateArray());
        Assert.Equal(documented, rule.GetProperty("rateLimitThreshold").GetInt32());
        Assert.Equal(1, rule.GetProperty("rateLimitDurationInMinutes").GetInt32());
        Assert.Equal("RateLimitPerClientIp", rule.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("ci")]
    [InlineData("Replay-Prod_2")]
    public void WafPolicyNameIsLettersAndDigitsOnly(string environmentName)
    {
        var snapshot = environmentName == "ci"
            ? infra.Deployed
            : infra.Take("waf-name", new Dictionary<string, object?> { ["environmentName"] = environmentName });
        var name = snapshot.Single("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies").GetProperty("name").GetString()!;
        Assert.Matches("^[A-Za-z][A-Za-z0-9]*$", name);
    }

    [Fact]
    public void SecurityPolicyAttachesTheWafToTheEndpointAndCustomDomain()
    {
        var parameters = Props(Resource("Microsoft.Cdn/profiles/securityPolicies")).GetProperty("parameters");
        Assert.Equal("WebApplicationFirewall", parameters.GetProperty("type").GetString());
        Assert.Equal(Id(Resource("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")), parameters.GetProperty("wafPolicy").GetProperty("id").GetString());
        var association = Assert.Single(parameters.GetProperty("associations").EnumerateArray());
        Assert.Equal(
            [Id(Resource("Microsoft.Cdn/profiles/afdEndpoints")), Id(Resource("Microsoft.Cdn/profiles/customDomains"))],
            Ids(association.GetProperty("domains")));
        Assert.Equal(["/*"], association.GetProperty("patternsToMatch").EnumerateArray().Select(p => p.GetString()!));
    }

    /// <summary>The access and WAF logs record requestUri with its query (the beacon's api_key) and /config/<key>,
    /// and AzureDiagnostics takes no transformation for them: the template sends Front Door's metrics only.</summary>
    [Fact]
    public void FrontDoorSendsMetricsButNoRequestLogsToLogAnalytics()
    {
        var diagnostics = Resource("Microsoft.Insights/diagnosticSettings");
        // An extension resource on the profile.
        Assert.StartsWith(Id(Resource("Microsoft.Cdn/profiles")) + "/providers/Microsoft.Insights/diagnosticSettings/", Id(diagnostics), StringComparison.Ordinal);
        Assert.Equal(Id(Resource("Microsoft.OperationalInsights/workspaces")), Props(diagnostics).GetProperty("workspaceId").GetString());
        Assert.Empty(Props(diagnostics).GetProperty("logs").EnumerateArray());
        Assert.False(Props(diagnostics).TryGetProperty("logAnalyticsDestinationType", out _));
        var metrics = Assert.Single(Props(diagnostics).GetProperty("metrics").EnumerateArray());
        Assert.Equal("AllMetrics", metrics.GetProperty("category").GetString());
        Assert.True(metrics.GetProperty("enabled").GetBoolean());

        // No resource in the template sends a request log anywhere.
        foreach (var category in new[] { "FrontDoorAccessLog", "FrontDoorWebApplicationFirewallLog", "FrontDoorHealthProbeLog", "allLogs", "categoryGroup" })
        {
            Assert.DoesNotContain(category, infra.TemplateText, StringComparison.Ordinal);
        }

        Assert.Single(infra.Deployed.OfType("Microsoft.Insights/diagnosticSettings"));
    }
}
