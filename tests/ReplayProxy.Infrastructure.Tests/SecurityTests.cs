using System.Text.Json;
using System.Text.RegularExpressions;

namespace ReplayProxy.Infrastructure.Tests;

[Collection(InfraCollection.Name)]
public class SecurityTests(InfraFixture infra)
{
    [Fact]
    public void NoKeysOrSecretBearingConnectionStringsAnywhere()
    {
        string[] forbidden =
        [
            @"\blistKeys\(", @"\blistConnectionStrings\(", @"\blistAccountSas\(", @"\blistServiceSas\(", @"\blistCredentials\(",
            @"AccountKey=", @"SharedAccessKey", @"InstrumentationKey=", @"""allowSharedKeyAccess"":\s*true",
            @"StorageAccountConnectionString", @"""AzureWebJobsStorage""\s*:", @"core\.windows\.net",
        ];
        foreach (var pattern in forbidden)
        {
            Assert.False(Regex.IsMatch(infra.TemplateText, pattern), $"the compiled template matches {pattern}");
        }

        Assert.DoesNotMatch(@"(?i)key|secret|password", string.Join(' ', TemplateTests.Outputs(infra.Template)));
        Assert.All(infra.Template.GetProperty("outputs").EnumerateObject(), o => Assert.Equal("string", o.Value.GetProperty("type").GetString()));
    }

    [Fact]
    public void StorageAllowsOnlyEntraOverTls12()
    {
        var storage = infra.Deployed.Single("Microsoft.Storage/storageAccounts").GetProperty("properties");
        Assert.False(storage.GetProperty("allowSharedKeyAccess").GetBoolean());
        Assert.False(storage.GetProperty("allowBlobPublicAccess").GetBoolean());
        Assert.Equal("TLS1_2", storage.GetProperty("minimumTlsVersion").GetString());
        Assert.True(storage.GetProperty("supportsHttpsTrafficOnly").GetBoolean());
        Assert.True(storage.GetProperty("defaultToOAuthAuthentication").GetBoolean());
        // The deployment package and the outage spool (kept uploads hold API keys and client IPs).
        var containers = infra.Deployed.OfType("Microsoft.Storage/storageAccounts/blobServices/containers");
        Assert.Equal(2, containers.Count);
        Assert.All(containers, container => Assert.Equal("None", container.GetProperty("properties").GetProperty("publicAccess").GetString()));
    }

    [Fact]
    public void RoleAssignmentsHaveDeterministicNamesAndTheRolesTheAppNeeds()
    {
        const string storageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
        const string monitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
        const string storageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
        var assignments = infra.Deployed.OfType("Microsoft.Authorization/roleAssignments");
        Assert.Equal(3, assignments.Count);
        // The spool's own role, on its container only.
        var spool = Assert.Single(assignments, a => a.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!.EndsWith(storageBlobDataContributor, StringComparison.Ordinal));
        Assert.Contains("replay-spool", spool.GetProperty("id").GetString()!, StringComparison.Ordinal);
        Assert.Matches(@"^\[extensionResourceId\('/subscriptions/[^']+/providers/Microsoft\.Storage/storageAccounts/[^/']+/blobServices/default/containers/replay-spool', 'Microsoft\.Authorization/roleAssignments', guid\(", spool.GetProperty("id").GetString()!);
        var identity = infra.Deployed.Single("Microsoft.ManagedIdentity/userAssignedIdentities").GetProperty("id").GetString()!;
        var principal = $"reference('{identity}', '2024-11-30').principalId";

        foreach (var (scopeType, role) in new[] { ("Microsoft.Storage/storageAccounts", storageBlobDataOwner), ("Microsoft.Insights/components", monitoringMetricsPublisher) })
        {
            var scope = infra.Deployed.Single(scopeType).GetProperty("id").GetString()!;
            var assignment = Assert.Single(assignments, a => a.GetProperty("id").GetString()!.StartsWith($"[extensionResourceId('{scope}', ", StringComparison.Ordinal));
            var properties = assignment.GetProperty("properties");
            Assert.Equal($"/subscriptions/{Snapshot.SubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/{role}", properties.GetProperty("roleDefinitionId").GetString());
            Assert.Equal($"[{principal}]", properties.GetProperty("principalId").GetString());
            Assert.Equal("ServicePrincipal", properties.GetProperty("principalType").GetString());
            // guid(scope, principal, role): re-running azd provision updates the assignment instead of adding one.
            Assert.Equal($"[guid('{scope}', {principal}, '{role}')]", assignment.GetProperty("name").GetString());
        }
    }

    [Fact]
    public void MonitoringIsWorkspaceBasedWithLocalAuthDisabled()
    {
        var appInsights = infra.Deployed.Single("Microsoft.Insights/components").GetProperty("properties");
        Assert.True(appInsights.GetProperty("DisableLocalAuth").GetBoolean());
        var workspace = infra.Deployed.Single("Microsoft.OperationalInsights/workspaces");
        Assert.Equal(workspace.GetProperty("id").GetString(), appInsights.GetProperty("WorkspaceResourceId").GetString());
        Assert.Equal(JsonValueKind.Object, workspace.GetProperty("properties").ValueKind);
    }
}
