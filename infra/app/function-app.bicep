// Flex Consumption plan and the function app that runs the proxy (ReplayProxy.Functions).
import { upstreamHeader } from 'types.bicep'

@description('Function app name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Region.')
param location string

@description('Tags for the site, including azd-env-name and azd-service-name.')
param tags object

@description('Tags for the plan, including azd-env-name.')
param planTags object

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Primary blob endpoint of the storage account, ending in a slash.')
param storageBlobEndpoint string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights connection string (local auth is disabled; ingestion needs Entra).')
param applicationInsightsConnectionString string

@allowed([
  512
  2048
  4096
])
@description('Instance memory in MB.')
param instanceMemoryMB int

@minValue(40)
@maxValue(1000)
@description('Maximum instance count (Flex Consumption supports 40 to 1000).')
param maximumInstanceCount int

@description('Always-ready instances for the http function group.')
param alwaysReadyInstanceCount int

@description('Concurrent HTTP invocations per instance.')
param httpPerInstanceConcurrency int

@description('frontDoorId of the Front Door profile allowed to reach the app (X-Azure-FDID).')
param frontDoorId string

@description('Exact origins for platform CORS. On Flex Consumption the host answers preflights from these before the function runs.')
param allowedOrigins string[]

@description('ReplayProxy__* settings read by the proxy.')
param proxySettings object

@description('Extra upstream headers, set in the proxy\'s list form: app setting names allow only letters, digits, . and _, so ReplayProxy__UpstreamHeaders__X-Proxy-Auth cannot exist.')
param upstreamHeaders upstreamHeader[]

var upstreamHeaderSettings = toObject(
  flatten(map(range(0, length(upstreamHeaders)), i => [
    {
      key: 'ReplayProxy__UpstreamHeaders__${i}__Name'
      value: trim(upstreamHeaders[i].name)
    }
    {
      key: 'ReplayProxy__UpstreamHeaders__${i}__Value'
      value: upstreamHeaders[i].value
    }
  ])),
  setting => setting.key,
  setting => setting.value
)

@description('Blob container of the outage spool (storage.bicep creates it). Spooling is on by default; ReplayProxy__Spool__BlobServiceUri set empty in proxySettings turns it off.')
param spoolContainerName string = 'replay-spool'

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: planTags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    // App settings that are Key Vault references (@Microsoft.KeyVault(...)) are resolved with this identity.
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: [
          {
            name: 'http'
            instanceCount: alwaysReadyInstanceCount
          }
        ]
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
      cors: {
        allowedOrigins: allowedOrigins
        supportCredentials: true
      }
      // Only this Front Door profile may reach the app: the AzureFrontDoor.Backend service tag alone
      // admits every Front Door customer, so the X-Azure-FDID header must also match.
      ipSecurityRestrictionsDefaultAction: 'Deny'
      ipSecurityRestrictions: [
        {
          name: 'AllowFrontDoorProfile'
          description: 'Front Door profile of this deployment only'
          action: 'Allow'
          priority: 100
          tag: 'ServiceTag'
          ipAddress: 'AzureFrontDoor.Backend'
          headers: {
            'x-azure-fdid': [
              frontDoorId
            ]
          }
        }
      ]
      // SCM (Kudu) keeps its own, open rule set: azd deploy publishes there with an Entra token,
      // and basic (user/password) publishing credentials are disabled below.
      scmIpSecurityRestrictionsUseMain: false
      scmIpSecurityRestrictionsDefaultAction: 'Allow'
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: union({
    // Uploads are kept in the app's own storage account, with its identity, while Amplitude fails.
    ReplayProxy__Spool__BlobServiceUri: storageBlobEndpoint
    ReplayProxy__Spool__BlobClientId: identityClientId
    ReplayProxy__Spool__BlobContainerName: spoolContainerName
  }, proxySettings, upstreamHeaderSettings, {
    // Identity-based host storage: no connection string, no account key.
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // Azure.Identity in the worker (e.g. the Azure Monitor exporter) picks the user-assigned identity from this.
    AZURE_CLIENT_ID: identityClientId
    // The host's home page would answer GET / when no function ran; the root is the proxy's form route.
    AzureWebJobsDisableHomepage: 'true'
  })
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
