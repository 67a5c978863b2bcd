using System.Text.Json;

namespace ReplayProxy.Infrastructure.Tests;

[Collection(InfraCollection.Name)]
public class TemplateTests(InfraFixture infra)
{
    /// <summary>
    /// Pinned API versions, one per resource type the template deploys (`existing` references compile to plain
    /// resource ids, so they are not in the compiled template): the newest GA version Bicep 0.49.2 knows. Raise deliberately:
    /// the lint test (use-recent-api-versions) says when one falls behind, and build warnings show schema changes.
    /// </summary>
    private static readonly Dictionary<string, string> ApiVersions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Microsoft.Resources/resourceGroups"] = "2025-04-01",
        ["Microsoft.Resources/deployments"] = "2025-04-01",
        ["Microsoft.ManagedIdentity/userAssignedIdentities"] = "2024-11-30",
        ["Microsoft.OperationalInsights/workspaces"] = "2026-03-01",
        ["Microsoft.Insights/components"] = "2020-02-02",
        ["Microsoft.Storage/storageAccounts"] = "2026-09-01",
        ["Microsoft.Storage/storageAccounts/blobServices"] = "2026-09-01",
        ["Microsoft.Storage/storageAccounts/blobServices/containers"] = "2026-09-01",
        ["Microsoft.Authorization/roleAssignments"] = "2022-04-01",
        ["Microsoft.Web/serverfarms"] = "2025-03-01",
        ["Microsoft.Web/sites"] = "2025-03-01",
        ["Microsoft.Web/sites/config"] = "2025-03-01",
        ["Microsoft.Web/sites/basicPublishingCredentialsPolicies"] = "2025-03-01",
        ["Microsoft.Cdn/profiles"] = "2026-07-01",
        ["Microsoft.Cdn/profiles/afdEndpoints"] = "2026-07-01",
        ["Microsoft.Cdn/profiles/afdEndpoints/routes"] = "2026-07-01",
        ["Microsoft.Cdn/profiles/ruleSets"] = "2026-07-01",
        ["Microsoft.Cdn/profiles/ruleSets/rules"] = "2026-07-01",
        ["Microsoft.Cdn/profiles/originGroups"] = "2026-07-01",
        ["Microsoft.Cdn/profiles/originGroups/origins"] = "2026-07-01",
        ["Microsoft.Cdn/profiles/customDomains"] = "2026-07-01",
        ["Microsoft.Cdn/profiles/securityPolicies"] = "2026-07-01",
        ["Microsoft.Network/FrontDoorWebApplicationFirewallPolicies"] = "2026-04-01",
        ["Microsoft.Network/dnsZones/CNAME"] = "2018-05-01",
        ["Microsoft.Network/dnsZones/TXT"] = "2018-05-01",
        // The one preview: diagnostic settings' only GA version (2016-09-01) is the legacy shape without workspaceId.
        ["Microsoft.Insights/diagnosticSettings"] = "2021-05-01-preview",
    };

    /// <summary>Tracked (top-level) resource types, which take tags.</summary>
    private static readonly HashSet<string> Taggable = new(StringComparer.OrdinalIgnoreCase)
    {
        "Microsoft.Resources/resourceGroups",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Insights/components",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Web/serverfarms",
        "Microsoft.Web/sites",
        "Microsoft.Cdn/profiles",
        "Microsoft.Cdn/profiles/afdEndpoints",
        "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies",
    };

    [Fact]
    public void MainBuildsWithoutDiagnostics()
    {
        // bicep build prints warnings (type mismatches against the resource schemas, linter rules) on stderr.
        Assert.True(string.IsNullOrWhiteSpace(infra.Build.StdErr), "bicep build reported:\n" + infra.Build.StdErr);
    }

    [Fact]
    public void MainTargetsTheSubscriptionAndCreatesTheResourceGroup()
    {
        Assert.EndsWith("/subscriptionDeploymentTemplate.json#", infra.Template.GetProperty("$schema").GetString(), StringComparison.Ordinal);
        var topLevel = infra.AllResources.Where(r => r.Module == "main" && r.Type != ArmTemplate.Deployments).ToList();
        var rg = Assert.Single(topLevel);
        Assert.Equal("Microsoft.Resources/resourceGroups", rg.Type);
        Assert.False(rg.Existing);
        Assert.Equal("rg-ci", infra.Deployed.Single("Microsoft.Resources/resourceGroups").GetProperty("name").GetString());
    }

    [Fact]
    public void ModulesAreInlineLocalTemplates()
    {
        var modules = ArmTemplate.Modules(infra.Template);
        Assert.True(modules.Count >= 5, "main.bicep should delegate to modules in infra/app");
        // Local modules compile inline; a registry module ('br:', 'ts:') would need a network restore and omits Flex properties.
        Assert.All(modules, m =>
        {
            Assert.True(m.Properties.TryGetProperty("template", out _), $"module {m.Json.GetProperty("name")} is not an inline template");
            Assert.False(m.Properties.TryGetProperty("templateLink", out _), $"module {m.Json.GetProperty("name")} links a remote template");
        });
        Assert.All(Directory.GetFiles(Repo.Infra, "*.bicep", SearchOption.AllDirectories), f =>
            Assert.DoesNotMatch(@"(?m)^module\s+\w+\s+'(br|ts)[:/]", File.ReadAllText(f)));
    }

    [Fact]
    public void ApiVersionsArePinnedFromTheAllowListAndNotPreview()
    {
        var resources = infra.AllResources;
        Assert.True(resources.Count > 20, "expected the modules' resources in the compiled template");
        foreach (var r in resources)
        {
            Assert.True(ApiVersions.TryGetValue(r.Type, out var pinned), $"{r.Module}: {r.Type} is not in the API version allow-list");
            Assert.True(pinned == r.ApiVersion, $"{r.Module}: {r.Type}@{r.ApiVersion}, allow-list pins {pinned}");
            if (r.Type != "Microsoft.Insights/diagnosticSettings")
            {
                Assert.DoesNotContain("preview", r.ApiVersion, StringComparison.OrdinalIgnoreCase);
            }
        }

        // Every type in the allow-list is still used: a stale entry would hide a removed resource.
        Assert.All(ApiVersions.Keys, t => Assert.Contains(resources, r => r.Type.Equals(t, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public void EveryTrackedResourceCarriesTheEnvironmentTag()
    {
        var tracked = infra.Deployed.Resources.Where(r => Taggable.Contains(r.GetProperty("type").GetString()!)).ToList();
        Assert.All(Taggable, t => Assert.Contains(tracked, r => r.GetProperty("type").GetString()!.Equals(t, StringComparison.OrdinalIgnoreCase)));
        Assert.All(tracked, r =>
        {
            Assert.True(r.TryGetProperty("tags", out var tags), $"{r.GetProperty("type")} {r.GetProperty("name")} has no tags");
            Assert.Equal("ci", tags.GetProperty("azd-env-name").GetString());
        });
    }

    [Fact]
    public void ServiceNameTagIsOnTheSiteOnlyAndMatchesAzureYaml()
    {
        var (service, _) = AzureYamlTests.Service();
        var site = infra.Deployed.Single("Microsoft.Web/sites");
        Assert.Equal(service, site.GetProperty("tags").GetProperty("azd-service-name").GetString());

        // azd must find exactly one resource for the service.
        var tagged = infra.Deployed.Resources.Where(r => r.TryGetProperty("tags", out var t) && t.TryGetProperty("azd-service-name", out _)).ToList();
        Assert.Equal("Microsoft.Web/sites", Assert.Single(tagged).GetProperty("type").GetString());
    }

    [Fact]
    public void MainOutputsWhatAzdAndTheHookNeed()
    {
        var outputs = Outputs(infra.Template);
        foreach (var name in new[]
        {
            "AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_NAME", "SERVICE_API_NAME",
            "FRONT_DOOR_ENDPOINT_HOSTNAME", "CUSTOM_DOMAIN_VALIDATION_RECORD_NAME", "CUSTOM_DOMAIN_VALIDATION_RECORD_VALUE",
            "CUSTOM_DOMAIN_CNAME_TARGET", "PROXY_BASE_URL", "FUNCTION_APP_DEFAULT_HOSTNAME", "AMPLITUDE_REGION",
        })
        {
            Assert.Contains(name, outputs);
        }

        var deployed = infra.Deployed;
        Assert.Equal("https://replay.example.com", deployed.Output("PROXY_BASE_URL"));
        Assert.Equal("https://replay.example.com/r/t", deployed.Output("PROXY_TRACK_URL"));
        Assert.Equal("https://replay.example.com/r/c", deployed.Output("PROXY_CONFIG_URL"));
        Assert.Equal("https://replay.example.com/r/e", deployed.Output("PROXY_HTTPAPI_URL"));
        Assert.Equal("https://replay.example.com/r/b", deployed.Output("PROXY_BATCH_URL"));
        Assert.Equal("https://replay.example.com/r/l", deployed.Output("PROXY_LEGACY_URL"));
        Assert.Equal("rg-ci", deployed.Output("AZURE_RESOURCE_GROUP"));
        Assert.Equal(Snapshot.TenantId, deployed.Output("AZURE_TENANT_ID"));
        Assert.Equal(deployed.Single("Microsoft.Web/sites").GetProperty("name").GetString(), deployed.Output("SERVICE_API_NAME"));
        // The site's real host name, read from the deployed site (not assumed to be <name>.azurewebsites.net).
        Assert.Matches(@"^\[reference\('[^']+/providers/Microsoft\.Web/sites/func-api-\w+', '[^']+'\)\.defaultHostName\]$", deployed.Output("FUNCTION_APP_DEFAULT_HOSTNAME"));
    }

    internal static HashSet<string> Outputs(JsonElement template) =>
        template.GetProperty("outputs").EnumerateObject().Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
}
