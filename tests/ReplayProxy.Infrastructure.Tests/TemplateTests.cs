using System.Text.RegularExpressions;

namespace ReplayProxy.Infrastructure.Tests;

public class TemplateTests
{
    /// <summary>
    /// Pinned API versions, one per resource type. Raise deliberately, after checking the new version's
    /// schema (a connected machine runs `az bicep build` / `bicep lint`).
    /// </summary>
    private static readonly Dictionary<string, string> ApiVersions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Microsoft.Resources/resourceGroups"] = "2024-03-01",
        ["Microsoft.ManagedIdentity/userAssignedIdentities"] = "2023-01-31",
        ["Microsoft.OperationalInsights/workspaces"] = "2023-09-01",
        ["Microsoft.Insights/components"] = "2020-02-02",
        ["Microsoft.Storage/storageAccounts"] = "2025-01-01",
        ["Microsoft.Storage/storageAccounts/blobServices"] = "2025-01-01",
        ["Microsoft.Storage/storageAccounts/blobServices/containers"] = "2025-01-01",
        ["Microsoft.Authorization/roleAssignments"] = "2022-04-01",
        ["Microsoft.Web/serverfarms"] = "2024-11-01",
        ["Microsoft.Web/sites"] = "2024-11-01",
        ["Microsoft.Web/sites/config"] = "2024-11-01",
        ["Microsoft.Web/sites/basicPublishingCredentialsPolicies"] = "2024-11-01",
        ["Microsoft.Cdn/profiles"] = "2025-04-15",
        ["Microsoft.Cdn/profiles/afdEndpoints"] = "2025-04-15",
        ["Microsoft.Cdn/profiles/afdEndpoints/routes"] = "2025-04-15",
        ["Microsoft.Cdn/profiles/originGroups"] = "2025-04-15",
        ["Microsoft.Cdn/profiles/originGroups/origins"] = "2025-04-15",
        ["Microsoft.Cdn/profiles/customDomains"] = "2025-04-15",
        ["Microsoft.Cdn/profiles/securityPolicies"] = "2025-04-15",
        ["Microsoft.Network/FrontDoorWebApplicationFirewallPolicies"] = "2025-03-01",
        ["Microsoft.Network/dnsZones"] = "2018-05-01",
        ["Microsoft.Network/dnsZones/CNAME"] = "2018-05-01",
        ["Microsoft.Network/dnsZones/TXT"] = "2018-05-01",
        // The one preview: diagnostic settings have no non-preview version in their current form
        // (2016-09-01 is the legacy shape with name 'service'); every template that sends logs uses it.
        ["Microsoft.Insights/diagnosticSettings"] = "2021-05-01-preview",
    };

    private static readonly HashSet<string> PreviewExceptions = new(StringComparer.OrdinalIgnoreCase)
    {
        "Microsoft.Insights/diagnosticSettings",
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
    public void MainTargetsTheSubscriptionAndCreatesTheResourceGroup()
    {
        var main = Bicep.StripComments(Repo.Read("infra", "main.bicep"));
        Assert.Matches(@"(?m)^targetScope\s*=\s*'subscription'", main);
        var rg = Assert.Single(Bicep.Resources("infra/main.bicep", Repo.Read("infra", "main.bicep")));
        Assert.Equal("Microsoft.Resources/resourceGroups", rg.Type);
        Assert.False(rg.Existing);
    }

    [Fact]
    public void MainDelegatesToLocalModulesThatExist()
    {
        var main = Bicep.StripComments(Repo.Read("infra", "main.bicep"));
        var modules = Regex.Matches(main, @"(?m)^module\s+\w+\s+'([^']+)'").Select(m => m.Groups[1].Value).ToList();
        Assert.True(modules.Count >= 5, "main.bicep should delegate to modules in infra/app");
        Assert.All(modules, path =>
        {
            Assert.StartsWith("./app/", path, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(Repo.Infra, path)), $"module {path} does not exist");
        });

        // No registry modules anywhere: they cannot be restored offline and omit Flex properties.
        Assert.All(Repo.BicepFiles(), f => Assert.DoesNotMatch(@"'br[:/]|'ts[:/]", Bicep.StripComments(f.Text)));
    }

    [Fact]
    public void ApiVersionsArePinnedFromTheAllowListAndNotPreview()
    {
        var resources = Bicep.AllResources();
        Assert.NotEmpty(resources);
        foreach (var r in resources)
        {
            Assert.True(ApiVersions.TryGetValue(r.Type, out var pinned), $"{r.File}: {r.Type} is not in the API version allow-list");
            Assert.True(string.Equals(pinned, r.ApiVersion, StringComparison.Ordinal), $"{r.File}: {r.Type}@{r.ApiVersion}, allow-list pins {pinned}");
            if (!PreviewExceptions.Contains(r.Type))
            {
                Assert.DoesNotContain("preview", r.ApiVersion, StringComparison.OrdinalIgnoreCase);
            }
        }

        // Every '...@yyyy-mm-dd...' string in the templates is a full resource type the reader above saw
        // (no short child types such as 'config@...', which would escape this check).
        foreach (var (path, text) in Repo.BicepFiles())
        {
            var code = Bicep.StripComments(text);
            var seen = Bicep.Resources(path, text).Select(r => $"{r.Type}@{r.ApiVersion}").ToHashSet(StringComparer.Ordinal);
            foreach (Match m in Regex.Matches(code, @"'([^'\s]+)@(\d{4}-\d{2}-\d{2}[^']*)'"))
            {
                Assert.True(seen.Contains($"{m.Groups[1].Value}@{m.Groups[2].Value}"), $"{path}: '{m.Value}' is not a resource declaration with a full type");
            }
        }
    }

    [Fact]
    public void EveryTrackedResourceCarriesTagsAndTheEnvironmentTagIsDefined()
    {
        var main = Bicep.StripComments(Repo.Read("infra", "main.bicep"));
        Assert.Matches(@"var\s+tags\s*=\s*\{\s*'azd-env-name':\s*environmentName\s*\}", main);

        var tracked = Bicep.AllResources().Where(r => !r.Existing && Taggable.Contains(r.Type)).ToList();
        Assert.True(tracked.Count >= Taggable.Count, "expected every tracked resource type to be declared");
        Assert.All(tracked, r => Assert.True(Bicep.Has(r.Body, @"^\s*tags:\s*\w+"), $"{r.File}: {r.Symbol} ({r.Type}) has no tags"));

        // Every module that declares resources receives the tags object from main.bicep.
        var moduleBlocks = Regex.Matches(main, @"(?ms)^module\s+(\w+)\s+'[^']+'.*?^\}");
        Assert.All(moduleBlocks, m =>
        {
            var symbol = m.Groups[1].Value;
            if (symbol is "rbac" or "dnsRecords")
            {
                return; // extension and child resources only; those take no tags
            }

            Assert.Matches(@"\btags:\s*(tags|union\(tags)", m.Value);
        });
    }

    [Fact]
    public void ServiceNameTagOnTheSiteMatchesAzureYaml()
    {
        var (service, _) = AzureYamlTests.Service();
        var main = Bicep.StripComments(Repo.Read("infra", "main.bicep"));
        var name = Regex.Match(main, @"var\s+apiServiceName\s*=\s*'([^']+)'");
        Assert.True(name.Success, "main.bicep should define apiServiceName");
        Assert.Equal(service, name.Groups[1].Value);
        Assert.Matches(@"'azd-service-name':\s*apiServiceName", main);

        var site = Bicep.Single("Microsoft.Web/sites");
        Assert.True(Bicep.Has(site.Body, @"^\s*tags:\s*tags\s*$"), "the site must carry the tags passed from main.bicep (with azd-service-name)");
        var functionApp = Bicep.StripComments(Repo.Read("infra", "app", "function-app.bicep"));
        Assert.Matches(@"param\s+tags\s+object", functionApp);

        // The plan gets the environment tag only: azd must find exactly one resource for the service.
        Assert.True(Bicep.Has(Bicep.Single("Microsoft.Web/serverfarms").Body, @"^\s*tags:\s*planTags\s*$"));
        Assert.Matches(@"(?m)^\s*planTags:\s*tags\s*$", main);
    }

    [Fact]
    public void MainOutputsWhatAzdAndTheHookNeed()
    {
        var outputs = Bicep.Outputs(Repo.Read("infra", "main.bicep"));
        foreach (var name in new[]
        {
            "AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_NAME", "SERVICE_API_NAME",
            "FRONT_DOOR_ENDPOINT_HOSTNAME", "CUSTOM_DOMAIN_VALIDATION_RECORD_NAME", "CUSTOM_DOMAIN_VALIDATION_RECORD_VALUE",
            "CUSTOM_DOMAIN_CNAME_TARGET", "PROXY_BASE_URL",
        })
        {
            Assert.Contains(name, outputs);
        }
    }
}
