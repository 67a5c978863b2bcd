// User-assigned managed identity the function app uses for storage, deployment and telemetry.
@description('Identity name.')
param name string

@description('Region.')
param location string

@description('Tags, including azd-env-name.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
