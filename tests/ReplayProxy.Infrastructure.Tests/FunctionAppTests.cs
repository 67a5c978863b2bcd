using System.Text.Json;

namespace ReplayProxy.Infrastructure.Tests;

[Collection(InfraCollection.Name)]
public class FunctionAppTests(InfraFixture infra)
{
    private const string SpoolContainer = "replay-spool";

    private JsonElement Site => infra.Deployed.Single("Microsoft.Web/sites");

    private JsonElement SiteConfig => Site.GetProperty("properties").GetProperty("siteConfig");

    private JsonElement FunctionAppConfig => Site.GetProperty("properties").GetProperty("functionAppConfig");

    private JsonElement AppSettings =>
        Assert.Single(infra.Deployed.OfType("Microsoft.Web/sites/config"), c => c.GetProperty("name").GetString()!.EndsWith("/appsettings", StringComparison.Ordinal))
            .GetProperty("properties");

    private string Setting(string name)
    {
        Assert.True(AppSettings.TryGetProperty(name, out var value), $"app setting {name} is missing");
        return value.GetString()!;
    }

    private string IdentityId => infra.Deployed.Single("Microsoft.ManagedIdentity/userAssignedIdentities").GetProperty("id").GetString()!;

    [Fact]
    public void PlanIsFlexConsumptionOnLinux()
    {
        var plan = infra.Deployed.Single("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", plan.GetProperty("sku").GetProperty("name").GetString());
        Assert.Equal("FlexConsumption", plan.GetProperty("sku").GetProperty("tier").GetString());
        Assert.True(plan.GetProperty("properties").GetProperty("reserved").GetBoolean());
        Assert.Equal(plan.GetProperty("id").GetString(), Site.GetProperty("properties").GetProperty("serverFarmId").GetString());
    }

    [Fact]
    public void SiteIsALinuxFunctionAppOnDotnetIsolated10()
    {
        Assert.Equal("functionapp,linux", Site.GetProperty("kind").GetString());
        var runtime = FunctionAppConfig.GetProperty("runtime");
        Assert.Equal("dotnet-isolated", runtime.GetProperty("name").GetString());
        // Flex wants the version as '10.0', not '10'.
        Assert.Equal("10.0", runtime.GetProperty("version").GetString());
    }

    [Fact]
    public void DeploymentPackageComesFromABlobContainerThroughTheUserAssignedIdentity()
    {
        var storage = FunctionAppConfig.GetProperty("deployment").GetProperty("storage");
        Assert.Equal("blobContainer", storage.GetProperty("type").GetString());
        var container = Assert.Single(infra.Deployed.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"), c => !c.GetProperty("name").GetString()!.Contains(SpoolContainer, StringComparison.Ordinal)).GetProperty("name").GetString()!.Split('/')[^1];
        var account = infra.Deployed.Single("Microsoft.Storage/storageAccounts").GetProperty("id").GetString()!;
        // The account's blob endpoint (known once it exists) followed by the container name.
        Assert.Equal($"[format('{{0}}{{1}}', reference('{account}', '2026-09-01').primaryEndpoints.blob, '{container}')]", storage.GetProperty("value").GetString());
        var auth = storage.GetProperty("authentication");
        Assert.Equal("UserAssignedIdentity", auth.GetProperty("type").GetString());
        Assert.Equal(IdentityId, auth.GetProperty("userAssignedIdentityResourceId").GetString());

        var identity = Site.GetProperty("identity");
        Assert.Equal("UserAssigned", identity.GetProperty("type").GetString());
        Assert.Equal(IdentityId, Assert.Single(identity.GetProperty("userAssignedIdentities").EnumerateObject()).Name);
    }

    [Fact]
    public void ScaleAndConcurrencyComeFromParametersWithAnAlwaysReadyHttpGroup()
    {
        var scale = FunctionAppConfig.GetProperty("scaleAndConcurrency");
        Assert.Equal(4096, scale.GetProperty("instanceMemoryMB").GetInt32());
        Assert.Equal(250, scale.GetProperty("maximumInstanceCount").GetInt32());
        var alwaysReady = Assert.Single(scale.GetProperty("alwaysReady").EnumerateArray());
        Assert.Equal("http", alwaysReady.GetProperty("name").GetString());
        Assert.Equal(2, alwaysReady.GetProperty("instanceCount").GetInt32());
        Assert.Equal(80, scale.GetProperty("triggers").GetProperty("http").GetProperty("perInstanceConcurrency").GetInt32());
    }

    [Fact]
    public void NoSettingFlexConsumptionRejects()
    {
        string[] forbidden =
        [
            "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
            "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_NODE_DEFAULT_VERSION",
            "linuxFxVersion", "alwaysOn", "use32BitWorkerProcess", "netFrameworkVersion",
        ];
        foreach (var name in forbidden)
        {
            Assert.False(infra.TemplateText.Contains(name, StringComparison.OrdinalIgnoreCase), $"the template sets {name}, which Flex Consumption rejects");
        }
    }

    [Fact]
    public void HostStorageIsIdentityBased()
    {
        Assert.Equal("managedidentity", Setting("AzureWebJobsStorage__credential"));
        // The outage spool is on: the same account and identity, its own container.
        Assert.Equal(Setting("AzureWebJobsStorage__blobServiceUri"), Setting("ReplayProxy__Spool__BlobServiceUri"));
        Assert.Equal(Setting("AzureWebJobsStorage__clientId"), Setting("ReplayProxy__Spool__BlobClientId"));
        Assert.Equal(SpoolContainer, Setting("ReplayProxy__Spool__BlobContainerName"));
        Assert.Equal($"[reference('{IdentityId}', '2024-11-30').clientId]", Setting("AzureWebJobsStorage__clientId"));
        var account = infra.Deployed.Single("Microsoft.Storage/storageAccounts").GetProperty("id").GetString()!;
        Assert.Equal($"[reference('{account}', '2026-09-01').primaryEndpoints.blob]", Setting("AzureWebJobsStorage__blobServiceUri"));
        // No plain AzureWebJobsStorage connection string.
        Assert.False(AppSettings.TryGetProperty("AzureWebJobsStorage", out _));
    }

    [Fact]
    public void ApplicationInsightsUsesEntraAuthentication()
    {
        var component = infra.Deployed.Single("Microsoft.Insights/components").GetProperty("id").GetString()!;
        Assert.Equal($"[reference('{component}', '2020-02-02').ConnectionString]", Setting("APPLICATIONINSIGHTS_CONNECTION_STRING"));
        Assert.Equal($"[format('ClientId={{0}};Authorization=AAD', reference('{IdentityId}', '2024-11-30').clientId)]", Setting("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"));
        Assert.Equal($"[reference('{IdentityId}', '2024-11-30').clientId]", Setting("AZURE_CLIENT_ID"));
    }

    [Fact]
    public void TheHostsHomePageIsOffSoThatTheRootIsTheFormRoute()
    {
        Assert.Equal("true", Setting("AzureWebJobsDisableHomepage"));
    }

    [Fact]
    public void ProxySettingsAreWiredFromParametersAndTheFrontDoorProfile()
    {
        // 'eu' in: the proxy reads the region case-insensitively, the template passes it on upper-cased.
        Assert.Equal("EU", Setting("ReplayProxy__Region"));
        Assert.Equal(FrontDoorIdReference(), Setting("ReplayProxy__FrontDoorId"));
        Assert.Equal("https://www.example.com,https://app.example.com", Setting("ReplayProxy__AllowedOrigins"));
        Assert.Equal("key1,key2", Setting("ReplayProxy__AllowedApiKeys"));
        Assert.Equal("45", Setting("ReplayProxy__UpstreamTimeoutSeconds"));
        Assert.Equal("10485760", Setting("ReplayProxy__MaxRequestBodyBytes"));
        // The host's own limit just above the proxy's, so the proxy's 413 answers a body a little over it.
        Assert.Equal("11534336", Setting("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"));
        Assert.Equal("/r/t", Setting("ReplayProxy__Paths__Track"));
        Assert.Equal("/r/c", Setting("ReplayProxy__Paths__Config"));
        Assert.Equal("/r/e", Setting("ReplayProxy__Paths__HttpApi"));
        Assert.Equal("/r/b", Setting("ReplayProxy__Paths__Batch"));
        Assert.Equal("/r/l", Setting("ReplayProxy__Paths__Legacy"));
    }

    /// <summary>The proxy's list form: an app setting name cannot hold the '-' of X-Proxy-Auth.</summary>
    [Fact]
    public void UpstreamHeadersAreAppSettingsInTheProxysListFormWithSecureValues()
    {
        Assert.Equal("X-Proxy-Auth", Setting("ReplayProxy__UpstreamHeaders__0__Name"));
        Assert.Equal("X-Tenant", Setting("ReplayProxy__UpstreamHeaders__1__Name"));
        // Secure values stay references to the parameter: never resolved into the template or the snapshot.
        Assert.Equal("[parameters('upstreamHeaders')[0].value]", Setting("ReplayProxy__UpstreamHeaders__0__Value"));
        Assert.Equal("[parameters('upstreamHeaders')[2].value]", Setting("ReplayProxy__UpstreamHeaders__1__Value"));
        Assert.Equal(4, AppSettings.EnumerateObject().Count(s => s.Name.StartsWith("ReplayProxy__UpstreamHeaders__", StringComparison.Ordinal)));
        Assert.DoesNotContain(InfraFixture.SecretHeaderValue, infra.Deployed.Root.ToString(), StringComparison.Ordinal);
        Assert.All(AppSettings.EnumerateObject(), s => Assert.Matches("^[A-Za-z0-9._]+$", s.Name));

        // Key Vault references (@Microsoft.KeyVault(SecretUri=...)) resolve with the app's user-assigned identity.
        Assert.Equal(IdentityId, Site.GetProperty("properties").GetProperty("keyVaultReferenceIdentity").GetString());

        var none = infra.Take("no-upstream-headers", new Dictionary<string, object?> { ["upstreamHeaders"] = null });
        var settings = Assert.Single(none.OfType("Microsoft.Web/sites/config")).GetProperty("properties");
        Assert.DoesNotContain(settings.EnumerateObject(), s => s.Name.StartsWith("ReplayProxy__UpstreamHeaders", StringComparison.Ordinal));
    }

    [Fact]
    public void SiteIsHardened()
    {
        var properties = Site.GetProperty("properties");
        Assert.True(properties.GetProperty("httpsOnly").GetBoolean());
        Assert.False(properties.GetProperty("clientAffinityEnabled").GetBoolean());
        Assert.Equal("1.2", SiteConfig.GetProperty("minTlsVersion").GetString());
        Assert.Equal("1.2", SiteConfig.GetProperty("scmMinTlsVersion").GetString());
        Assert.Equal("Disabled", SiteConfig.GetProperty("ftpsState").GetString());
        Assert.True(SiteConfig.GetProperty("http20Enabled").GetBoolean());
        Assert.False(SiteConfig.GetProperty("remoteDebuggingEnabled").GetBoolean());

        var policies = infra.Deployed.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies");
        Assert.Equal(2, policies.Count);
        foreach (var name in new[] { "ftp", "scm" })
        {
            var policy = Assert.Single(policies, p => p.GetProperty("name").GetString()!.EndsWith("/" + name, StringComparison.Ordinal));
            Assert.False(policy.GetProperty("properties").GetProperty("allow").GetBoolean());
        }
    }

    [Fact]
    public void OnlyThisFrontDoorProfileReachesTheApp()
    {
        Assert.Equal("Deny", SiteConfig.GetProperty("ipSecurityRestrictionsDefaultAction").GetString());
        // Exactly one rule: the Front Door one.
        var rule = Assert.Single(SiteConfig.GetProperty("ipSecurityRestrictions").EnumerateArray());
        Assert.Equal("Allow", rule.GetProperty("action").GetString());
        Assert.Equal("ServiceTag", rule.GetProperty("tag").GetString());
        Assert.Equal("AzureFrontDoor.Backend", rule.GetProperty("ipAddress").GetString());
        var header = Assert.Single(rule.GetProperty("headers").EnumerateObject());
        Assert.Equal("x-azure-fdid", header.Name);
        Assert.Equal(FrontDoorIdReference(), Assert.Single(header.Value.EnumerateArray()).GetString());
    }

    [Fact]
    public void ScmStaysReachableForAzdDeploy()
    {
        Assert.False(SiteConfig.GetProperty("scmIpSecurityRestrictionsUseMain").GetBoolean());
        Assert.Equal("Allow", SiteConfig.GetProperty("scmIpSecurityRestrictionsDefaultAction").GetString());
        Assert.False(SiteConfig.TryGetProperty("scmIpSecurityRestrictions", out _));
    }

    [Fact]
    public void PlatformCorsListsTheExactOriginsWithCredentials()
    {
        var cors = SiteConfig.GetProperty("cors");
        Assert.Equal(["https://www.example.com", "https://app.example.com"], cors.GetProperty("allowedOrigins").EnumerateArray().Select(o => o.GetString()!));
        Assert.True(cors.GetProperty("supportCredentials").GetBoolean());
    }

    /// <summary>The Front Door profile's frontDoorId, read from the deployed profile.</summary>
    private string FrontDoorIdReference()
    {
        var profile = infra.Deployed.Single("Microsoft.Cdn/profiles").GetProperty("id").GetString()!;
        return $"[reference('{profile}', '2026-07-01').frontDoorId]";
    }
}
