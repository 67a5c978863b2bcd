using System.Text.RegularExpressions;

namespace ReplayProxy.Infrastructure.Tests;

public class SecurityTests
{
    [Fact]
    public void NoKeysOrSecretBearingConnectionStringsAnywhere()
    {
        string[] forbidden =
        [
            @"\blistKeys\(", @"\blistConnectionStrings\(", @"\blistAccountSas\(", @"\blistServiceSas\(", @"\blistCredentials\(",
            @"AccountKey=", @"SharedAccessKey", @"InstrumentationKey=", @"allowSharedKeyAccess:\s*true",
            @"'StorageAccountConnectionString'", @"AzureWebJobsStorage'?\s*:", @"core\.windows\.net",
        ];
        foreach (var (path, text) in Repo.BicepFiles())
        {
            var code = Bicep.StripComments(text);
            foreach (var pattern in forbidden)
            {
                Assert.False(Regex.IsMatch(code, pattern), $"{path} matches {pattern}");
            }
        }

        Assert.DoesNotMatch(@"(?i)key|secret|password", string.Join(' ', Bicep.Outputs(Repo.Read("infra", "main.bicep"))));
    }

    [Fact]
    public void StorageAllowsOnlyEntraOverTls12()
    {
        var storage = Bicep.Single("Microsoft.Storage/storageAccounts").Body;
        Assert.Matches(@"allowSharedKeyAccess:\s*false", storage);
        Assert.Matches(@"allowBlobPublicAccess:\s*false", storage);
        Assert.Matches(@"minimumTlsVersion:\s*'TLS1_2'", storage);
        Assert.Matches(@"supportsHttpsTrafficOnly:\s*true", storage);
        Assert.Matches(@"defaultToOAuthAuthentication:\s*true", storage);
        Assert.Matches(@"publicAccess:\s*'None'", Bicep.Single("Microsoft.Storage/storageAccounts/blobServices/containers").Body);
    }

    [Fact]
    public void RoleAssignmentsHaveDeterministicNamesAndTheRolesTheAppNeeds()
    {
        var assignments = Bicep.AllResources()
            .Where(r => r.Type.Equals("Microsoft.Authorization/roleAssignments", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.Equal(2, assignments.Count);
        Assert.All(assignments, a =>
        {
            Assert.Matches(@"(?m)^\s*name:\s*guid\(\w+\.id,\s*principalId,\s*\w+RoleId\)", a.Body);
            Assert.Matches(@"principalType:\s*'ServicePrincipal'", a.Body);
            Assert.Matches(@"roleDefinitionId:\s*subscriptionResourceId\('Microsoft\.Authorization/roleDefinitions',\s*\w+RoleId\)", a.Body);
        });

        var rbac = Bicep.StripComments(Repo.Read("infra", "app", "rbac.bicep"));
        // Storage Blob Data Owner on the storage account; Monitoring Metrics Publisher on Application Insights.
        Assert.Matches(@"storageBlobDataOwnerRoleId\s*=\s*'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'", rbac);
        Assert.Matches(@"monitoringMetricsPublisherRoleId\s*=\s*'3913510d-42f4-4e42-8a64-420c390055eb'", rbac);
        Assert.Contains(assignments, a => Bicep.Has(a.Body, @"scope:\s*storage\s*$") && Bicep.Has(a.Body, "storageBlobDataOwnerRoleId"));
        Assert.Contains(assignments, a => Bicep.Has(a.Body, @"scope:\s*applicationInsights\s*$") && Bicep.Has(a.Body, "monitoringMetricsPublisherRoleId"));
        Assert.Matches(@"principalId:\s*identity\.outputs\.principalId", Bicep.StripComments(Repo.Read("infra", "main.bicep")));
    }

    [Fact]
    public void MonitoringIsWorkspaceBasedWithLocalAuthDisabled()
    {
        var appInsights = Bicep.Single("Microsoft.Insights/components").Body;
        Assert.Matches(@"DisableLocalAuth:\s*true", appInsights);
        Assert.Matches(@"WorkspaceResourceId:\s*logAnalytics\.id", appInsights);
        Bicep.Single("Microsoft.OperationalInsights/workspaces");
    }
}
