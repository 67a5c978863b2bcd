using System.Text.RegularExpressions;

namespace ReplayProxy.Infrastructure.Tests;

public class FunctionAppTests
{
    private static BicepResource Site() => Bicep.Single("Microsoft.Web/sites");

    private static string AppSettings()
    {
        var settings = Bicep.AllResources().Where(r => r.Type.Equals("Microsoft.Web/sites/config", StringComparison.OrdinalIgnoreCase)).ToList();
        var appSettings = Assert.Single(settings, r => Bicep.Has(r.Body, @"^\s*name:\s*'appsettings'"));
        return appSettings.Body;
    }

    private static string MainBicep() => Bicep.StripComments(Repo.Read("infra", "main.bicep"));

    [Fact]
    public void PlanIsFlexConsumptionOnLinux()
    {
        var plan = Bicep.Single("Microsoft.Web/serverfarms").Body;
        Assert.Matches(@"sku:\s*\{\s*name:\s*'FC1'\s+tier:\s*'FlexConsumption'\s*\}", plan);
        Assert.Matches(@"reserved:\s*true", plan);
        Assert.Matches(@"serverFarmId:\s*plan\.id", Site().Body);
    }

    [Fact]
    public void SiteIsALinuxFunctionAppOnDotnetIsolated10()
    {
        var site = Site().Body;
        Assert.Matches(@"kind:\s*'functionapp,linux'", site);
        // Flex wants the version as '10.0', not '10'.
        Assert.Matches(@"runtime:\s*\{\s*name:\s*'dotnet-isolated'\s+version:\s*'10\.0'\s*\}", site);
    }

    [Fact]
    public void DeploymentPackageComesFromABlobContainerThroughTheUserAssignedIdentity()
    {
        var site = Site().Body;
        Assert.Matches(@"type:\s*'blobContainer'", site);
        Assert.Matches(@"value:\s*'\$\{storageBlobEndpoint\}\$\{deploymentContainerName\}'", site);
        Assert.Matches(@"authentication:\s*\{\s*type:\s*'UserAssignedIdentity'\s+userAssignedIdentityResourceId:\s*identityId\s*\}", site);
        Assert.Matches(@"identity:\s*\{\s*type:\s*'UserAssigned'", site);
        Assert.Matches(@"'Microsoft\.Storage/storageAccounts/blobServices/containers@[^']+'", Repo.Read("infra", "app", "storage.bicep"));
    }

    [Fact]
    public void ScaleAndConcurrencyComeFromParametersWithAnAlwaysReadyHttpGroup()
    {
        var site = Site().Body;
        Assert.Matches(@"instanceMemoryMB:\s*instanceMemoryMB", site);
        Assert.Matches(@"maximumInstanceCount:\s*maximumInstanceCount", site);
        Assert.Matches(@"alwaysReady:\s*\[\s*\{\s*name:\s*'http'\s+instanceCount:\s*alwaysReadyInstanceCount\s*\}\s*\]", site);
        Assert.Matches(@"triggers:\s*\{\s*http:\s*\{\s*perInstanceConcurrency:\s*httpPerInstanceConcurrency\s*\}\s*\}", site);

        var main = MainBicep();
        foreach (var p in new[] { "instanceMemoryMB", "maximumInstanceCount", "alwaysReadyInstanceCount", "httpPerInstanceConcurrency" })
        {
            Assert.Matches($@"(?m)^\s*{p}:\s*{p}\s*$", main);
        }
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
        foreach (var (path, text) in Repo.BicepFiles())
        {
            var code = Bicep.StripComments(text);
            foreach (var name in forbidden)
            {
                Assert.False(code.Contains(name, StringComparison.OrdinalIgnoreCase), $"{path} sets {name}, which Flex Consumption rejects");
            }
        }
    }

    [Fact]
    public void HostStorageIsIdentityBased()
    {
        var settings = AppSettings();
        Assert.Matches(@"AzureWebJobsStorage__credential:\s*'managedidentity'", settings);
        Assert.Matches(@"AzureWebJobsStorage__clientId:\s*identityClientId", settings);
        Assert.Matches(@"AzureWebJobsStorage__blobServiceUri:\s*storageBlobEndpoint", settings);
        // No plain AzureWebJobsStorage connection string.
        Assert.DoesNotMatch(@"AzureWebJobsStorage\s*:", settings);
    }

    [Fact]
    public void ApplicationInsightsUsesEntraAuthentication()
    {
        var settings = AppSettings();
        Assert.Matches(@"APPLICATIONINSIGHTS_CONNECTION_STRING:\s*applicationInsightsConnectionString", settings);
        Assert.Matches(@"APPLICATIONINSIGHTS_AUTHENTICATION_STRING:\s*'ClientId=\$\{identityClientId\};Authorization=AAD'", settings);
    }

    [Fact]
    public void ProxySettingsAreWiredFromParametersAndTheFrontDoorProfile()
    {
        Assert.Matches(@"properties:\s*union\(proxySettings,", AppSettings());
        var main = MainBicep();
        Assert.Matches(@"ReplayProxy__Region:\s*amplitudeRegion", main);
        Assert.Matches(@"ReplayProxy__FrontDoorId:\s*frontDoorProfile\.outputs\.frontDoorId", main);
        Assert.Matches(@"ReplayProxy__AllowedOrigins:\s*join\(originList,\s*','\)", main);
        Assert.Matches(@"ReplayProxy__AllowedApiKeys:\s*allowedApiKeys", main);
        Assert.Matches(@"ReplayProxy__UpstreamTimeoutSeconds:\s*string\(upstreamTimeoutSeconds\)", main);
        Assert.Matches(@"ReplayProxy__MaxRequestBodyBytes:\s*string\(maxRequestBodyBytes\)", main);
        Assert.Matches(@"output\s+frontDoorId\s+string\s*=\s*profile\.properties\.frontDoorId", Bicep.StripComments(Repo.Read("infra", "app", "frontdoor-profile.bicep")));
    }

    [Fact]
    public void SiteIsHardened()
    {
        var site = Site().Body;
        Assert.Matches(@"httpsOnly:\s*true", site);
        Assert.Matches(@"(?m)^\s*minTlsVersion:\s*'1\.2'", site);
        Assert.Matches(@"scmMinTlsVersion:\s*'1\.2'", site);
        Assert.Matches(@"ftpsState:\s*'Disabled'", site);
        Assert.Matches(@"http20Enabled:\s*true", site);
        Assert.Matches(@"remoteDebuggingEnabled:\s*false", site);

        var policies = Bicep.AllResources()
            .Where(r => r.Type.Equals("Microsoft.Web/sites/basicPublishingCredentialsPolicies", StringComparison.OrdinalIgnoreCase))
            .ToList();
        foreach (var name in new[] { "ftp", "scm" })
        {
            var policy = Assert.Single(policies, p => Bicep.Has(p.Body, $@"^\s*name:\s*'{name}'"));
            Assert.Matches(@"allow:\s*false", policy.Body);
        }
    }

    [Fact]
    public void OnlyThisFrontDoorProfileReachesTheApp()
    {
        var site = Site().Body;
        Assert.Matches(@"ipSecurityRestrictionsDefaultAction:\s*'Deny'", site);
        var rule = Bicep.ValueOf(site, "ipSecurityRestrictions");
        Assert.True(rule is not null, "ipSecurityRestrictions missing");
        // Exactly one rule: the Front Door one.
        Assert.Single(Regex.Matches(rule, @"(?m)^\s*action:"));
        Assert.Matches(@"action:\s*'Allow'", rule);
        Assert.Matches(@"tag:\s*'ServiceTag'", rule);
        Assert.Matches(@"ipAddress:\s*'AzureFrontDoor\.Backend'", rule);
        Assert.Matches(@"headers:\s*\{\s*'x-azure-fdid':\s*\[\s*frontDoorId\s*\]\s*\}", rule);
        Assert.Matches(@"frontDoorId:\s*frontDoorProfile\.outputs\.frontDoorId", MainBicep());
    }

    [Fact]
    public void ScmStaysReachableForAzdDeploy()
    {
        var site = Site().Body;
        Assert.Matches(@"scmIpSecurityRestrictionsUseMain:\s*false", site);
        Assert.Matches(@"scmIpSecurityRestrictionsDefaultAction:\s*'Allow'", site);
        Assert.DoesNotMatch(@"scmIpSecurityRestrictions:", site);
    }

    [Fact]
    public void PlatformCorsListsTheExactOriginsWithCredentials()
    {
        var site = Site().Body;
        Assert.Matches(@"cors:\s*\{\s*allowedOrigins:\s*allowedOrigins\s+supportCredentials:\s*true\s*\}", site);
        Assert.Matches(@"allowedOrigins:\s*originList", MainBicep());
        Assert.DoesNotMatch(@"'\*'", site);
    }
}
