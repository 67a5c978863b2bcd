// Front Door Standard profile. Created before the function app because the app's access
// restriction admits only requests carrying this profile's X-Azure-FDID.
@description('Profile name.')
param name string

@description('Tags, including azd-env-name.')
param tags object

@minValue(16)
@maxValue(240)
@description('Seconds Front Door waits for the origin. Set by main.bicep between the proxy upstream timeout and the 230 s cap.')
param originResponseTimeoutSeconds int

resource profile 'Microsoft.Cdn/profiles@2026-07-01' = {
  name: name
  location: 'global'
  tags: tags
  sku: {
    name: 'Standard_AzureFrontDoor'
  }
  properties: {
    originResponseTimeoutSeconds: originResponseTimeoutSeconds
  }
}

output name string = profile.name
output frontDoorId string = profile.properties.frontDoorId
