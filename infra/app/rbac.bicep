// Role assignments for the function app's user-assigned identity. Names are deterministic guid()s,
// so re-running azd provision updates rather than duplicates them.
@description('Storage account the identity reads and writes (host state and deployment package).')
param storageAccountName string

@description('Application Insights component the identity sends telemetry to.')
param applicationInsightsName string

@description('Principal (object) id of the user-assigned identity.')
param principalId string

@description('Container of the outage spool (storage.bicep creates it).')
param spoolContainerName string = 'replay-spool'

// Built-in role definition ids (identical in every tenant).
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'
var storageBlobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2026-09-01' existing = {
  name: storageAccountName
}

resource spoolContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' existing = {
  name: '${storageAccountName}/default/${spoolContainerName}'
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The spool (kept uploads: read, write, delete, leases) on its own container. The host's Storage Blob Data Owner on
// the account covers it today; this states what the proxy itself needs, should that role ever be narrowed.
resource spoolContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(spoolContainer.id, principalId, storageBlobDataContributorRoleId)
  scope: spoolContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
