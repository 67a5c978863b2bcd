// ReplayFunctions: first-party proxy for Amplitude Session Replay and analytics.
// Flex Consumption function app behind Azure Front Door Standard (WAF, optional custom domain).
// Reads top-down: parameters, naming, resource group, then one module per concern in ./app.
targetScope = 'subscription'

import { upstreamHeader } from 'app/types.bicep'
import { isValidApiKeyList, isValidOriginList, isWellFormedOrigin, publicPathProblem, settingList } from 'app/validation.bicep'

// ---------------------------------------------------------------------------
// Parameters supplied by azd (see main.parameters.json)
// ---------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment. Used for the resource group name, resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region for the resource group, the function app, storage and monitoring. Must offer Flex Consumption. Front Door and WAF are global.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Optional. Resource group name; defaults to rg-<environmentName>.')
param resourceGroupName string = ''

@description('Amplitude data center the proxy forwards to: US or EU, in any case (as the proxy reads ReplayProxy__Region). EU keeps replay, config and analytics traffic on Amplitude EU hosts.')
param amplitudeRegion string = 'US'

@minLength(1)
@description('Comma-separated exact origins of the sites that load the SDK, e.g. https://www.example.com,https://app.example.com. No wildcard: exit beacons are credentialed, so the preflight must echo the exact origin.')
param allowedOrigins string

@minLength(1)
@description('Comma-separated Amplitude API keys the proxy accepts (letters, digits, - and _), or * alone to accept any key on purpose. Required, so that the proxy is not an open relay for other Amplitude projects by default.')
param allowedApiKeys string

@description('Optional. Extra headers the proxy adds to every request to Amplitude, e.g. for an egress gateway (app settings ReplayProxy__UpstreamHeaders__<i>__Name and __Value). Values are secure; a Key Vault reference works as a value. An entry with an empty name is dropped (main.parameters.json fills the first from UPSTREAM_HEADER_NAME and UPSTREAM_HEADER_VALUE).')
param upstreamHeaders upstreamHeader[] = []

// Public paths (the proxy's ReplayProxy:Paths:*): change them when a blocker list knows Amplitude's paths. The SDKs
// take each as a full URL; the postprovision hook prints them.
@description('Optional. Path of replay uploads: the Session Replay SDK\'s trackServerUrl (ReplayProxy__Paths__Track).')
param proxyPathTrack string = '/sessions/v2/track'

@description('Optional. Path prefix of remote config: configServerUrl and remoteConfig.serverUrl; the SDK appends /<api key> (ReplayProxy__Paths__Config).')
param proxyPathConfig string = '/config'

@description('Optional. Path of analytics uploads: serverUrl of the browser, Swift and Kotlin SDKs (ReplayProxy__Paths__HttpApi).')
param proxyPathHttpApi string = '/2/httpapi'

@description('Optional. Path of batch-mode analytics uploads: serverUrl with useBatch (ReplayProxy__Paths__Batch).')
param proxyPathBatch string = '/batch'

@description('Optional. Path of form uploads: Amplitude-iOS setServerUrl: (ReplayProxy__Paths__Legacy).')
param proxyPathLegacy string = '/'

@description('Optional. Custom host name for the proxy, e.g. replay.example.com (a subdomain, not the zone apex). Empty serves only the Front Door endpoint host name.')
param customDomainName string = ''

@description('Optional. Azure DNS zone that holds customDomainName (e.g. example.com). When set, the CNAME and _dnsauth TXT records are created there and dnsZoneResourceGroupName is required; otherwise create them at your DNS host.')
param dnsZoneName string = ''

@description('Resource group of dnsZoneName, in the same subscription. Required when dnsZoneName is set, and not the resource group this template creates (azd down would delete the zone with it).')
param dnsZoneResourceGroupName string = ''

@allowed([
  512
  2048
  4096
])
@description('Flex Consumption instance memory in MB. CPU and network bandwidth scale with it.')
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
@description('Upper bound on Flex Consumption instances (a cost ceiling). Flex Consumption supports 40 to 1000.')
param maximumInstanceCount int = 100

@minValue(0)
@maxValue(20)
@description('Always-ready instances for the http function group. The browser SDK turns replay capture off for a page load when remote config takes longer than 1.5 s, so a cold start costs replays; 1 keeps one warm instance.')
param alwaysReadyInstanceCount int = 1

@minValue(1)
@maxValue(1000)
@description('Concurrent HTTP invocations per instance. The proxy is I/O bound (it waits on Amplitude), so this is higher than the 2048 MB default of 16; the Functions host holds each in-flight body whole (about 2 to 3 times its size, up to maxRequestBodyBytes + 1 MiB), see the README\'s Request bodies on Flex Consumption.')
param httpPerInstanceConcurrency int = 64

@minValue(1)
@maxValue(225)
@description('Seconds the proxy waits for Amplitude before answering 504 (ReplayProxy__UpstreamTimeoutSeconds). The proxy accepts 1 to 225, under the 230 s platform cap on HTTP responses.')
param upstreamTimeoutSeconds int = 30

@minValue(31)
@maxValue(229)
@description('Front Door origin response timeout in seconds. Must exceed the proxy upstream timeout (so the proxy, not Front Door, reports a slow upstream) and stay under the 230 s platform cap on HTTP responses.')
param originResponseTimeoutSeconds int = 60

@minValue(1048576)
@maxValue(29999999)
@description('Largest request body the proxy accepts, in bytes (ReplayProxy__MaxRequestBodyBytes). Kept under the worker Kestrel limit of 30,000,000 bytes.')
param maxRequestBodyBytes int = 20971520

@minValue(100)
@maxValue(100000)
@description('WAF rate limit: requests per minute (all methods, preflights included) from one client IP before Front Door answers 429 for the rest of the minute. One busy browser tab sends at most about 100 a minute (README, "Rate limit"); 3000 leaves room for about 30 such users, or a hundred ordinary ones, behind one NAT address. A blocked browser sees a network error (the 429 has no CORS headers) and loses what it sent.')
param wafRateLimitPerMinute int = 3000

// ---------------------------------------------------------------------------
// Naming and tags
// ---------------------------------------------------------------------------

// The service name must match services.<name> in azure.yaml: azd finds the site by this tag.
var apiServiceName = 'api'
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-api-${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'
// Front Door WAF policy names allow letters and digits only; resourceToken is lowercase alphanumeric.
var wafPolicyName = 'waf${resourceToken}'
// Front Door must wait longer than the proxy waits for Amplitude, and less than the 230 s platform cap.
var frontDoorOriginTimeoutSeconds = min(max(originResponseTimeoutSeconds, upstreamTimeoutSeconds + 10), 229)
var useCustomDomain = !empty(customDomainName)
var manageDnsRecords = useCustomDomain && !empty(dnsZoneName)
var appResourceGroupName = !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
// fail() stops the deployment before anything is created, with a message naming the setting.
var region = contains(['US', 'EU'], toUpper(trim(amplitudeRegion)))
  ? toUpper(trim(amplitudeRegion))
  : fail('amplitudeRegion (AMPLITUDE_REGION) is \'${amplitudeRegion}\'; allowed values are US and EU (any case)')
// The values are secure, so the template reads only the names: an entry without a name is dropped (azd's entry when
// UPSTREAM_HEADER_NAME is not set).
var upstreamHeaderList = filter(upstreamHeaders, header => !empty(trim(header.name)))
var pathSettings = [
  { setting: 'Track', param: 'proxyPathTrack (PROXY_PATH_TRACK)', path: proxyPathTrack }
  { setting: 'Config', param: 'proxyPathConfig (PROXY_PATH_CONFIG)', path: proxyPathConfig }
  { setting: 'HttpApi', param: 'proxyPathHttpApi (PROXY_PATH_HTTPAPI)', path: proxyPathHttpApi }
  { setting: 'Batch', param: 'proxyPathBatch (PROXY_PATH_BATCH)', path: proxyPathBatch }
  { setting: 'Legacy', param: 'proxyPathLegacy (PROXY_PATH_LEGACY)', path: proxyPathLegacy }
]
var pathsLowerCase = map(pathSettings, p => toLower(p.path))
var proxyPaths = toObject(
  map(pathSettings, p => !empty(publicPathProblem(p.setting, p.path))
    ? fail('${p.param} is \'${p.path}\'; ${publicPathProblem(p.setting, p.path)}')
    : indexOf(pathsLowerCase, toLower(p.path)) != lastIndexOf(pathsLowerCase, toLower(p.path))
        ? fail('${p.param} is \'${p.path}\', which another PROXY_PATH_* value also is; each route needs its own path')
        : p.setting != 'Config' && startsWith(toLower(p.path), '${toLower(proxyPathConfig)}/')
            ? fail('${p.param} is \'${p.path}\', under PROXY_PATH_CONFIG \'${proxyPathConfig}\', whose <path>/<api key> form would take it')
            : p),
  p => p.setting,
  p => p.path
)
// The proxy refuses a malformed origin or key at start, which would leave the deployed worker stopped; the same rules
// (app/validation.bicep) stop azd provision here instead. Messages name the bad origin; keys are never echoed.
var originList = isValidOriginList(allowedOrigins)
  ? settingList(allowedOrigins)
  : empty(settingList(allowedOrigins))
      ? fail('allowedOrigins (ALLOWED_ORIGINS) is empty; list the exact origins of your pages, e.g. https://www.example.com')
      : fail('allowedOrigins (ALLOWED_ORIGINS) contains \'${first(filter(settingList(allowedOrigins), origin => !isWellFormedOrigin(origin)))}\'; each entry must be an exact origin such as https://www.example.com (scheme, host and optional non-default port; no path or trailing slash, no query, no wildcard)')
var apiKeyList = isValidApiKeyList(allowedApiKeys)
  ? join(settingList(allowedApiKeys), ',')
  : empty(settingList(allowedApiKeys))
      ? fail('allowedApiKeys (ALLOWED_API_KEYS) is empty; list your Amplitude API keys, or set * to accept any key')
      : contains(settingList(allowedApiKeys), '*')
          ? fail('allowedApiKeys (ALLOWED_API_KEYS) mixes * with keys; * accepts any key and must stand alone')
          : fail('allowedApiKeys (ALLOWED_API_KEYS) contains an entry with characters other than letters, digits, - and _')
// replay.example.com in zone example.com -> replay. A name outside the zone, or its apex, would write records for the
// wrong name (and the apex cannot take a CNAME). ARM's endsWith ignores case, as DNS does.
var dnsZoneSuffix = '.${dnsZoneName}'
var dnsRecordName = !manageDnsRecords
  ? ''
  : endsWith(customDomainName, dnsZoneSuffix) && length(customDomainName) > length(dnsZoneSuffix)
      ? substring(customDomainName, 0, length(customDomainName) - length(dnsZoneSuffix))
      : fail('customDomainName (CUSTOM_DOMAIN) \'${customDomainName}\' must be a subdomain inside dnsZoneName (DNS_ZONE_NAME) \'${dnsZoneName}\', such as replay.${dnsZoneName}; the zone apex cannot take a CNAME')
var dnsZoneResourceGroup = empty(dnsZoneName)
  ? appResourceGroupName
  : empty(dnsZoneResourceGroupName)
      ? fail('dnsZoneResourceGroupName (DNS_ZONE_RESOURCE_GROUP) is required when dnsZoneName (DNS_ZONE_NAME) is set: the resource group that already holds the zone')
      : toLower(dnsZoneResourceGroupName) == toLower(appResourceGroupName)
          ? fail('dnsZoneResourceGroupName (DNS_ZONE_RESOURCE_GROUP) must not be the resource group this template creates (${appResourceGroupName}): it cannot already hold the zone, and azd down would delete the zone with it')
          : dnsZoneResourceGroupName

// ---------------------------------------------------------------------------
// Resource group
// ---------------------------------------------------------------------------

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: appResourceGroupName
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------
// Identity, monitoring, storage and role assignments
// ---------------------------------------------------------------------------

module identity './app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring './app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage './app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
  }
}

// ---------------------------------------------------------------------------
// Front Door profile first: the site's access restriction needs its frontDoorId
// ---------------------------------------------------------------------------

module frontDoorProfile './app/frontdoor-profile.bicep' = {
  name: 'frontdoor-profile'
  scope: rg
  params: {
    name: 'afd-${resourceToken}'
    tags: tags
    originResponseTimeoutSeconds: frontDoorOriginTimeoutSeconds
  }
}

// ---------------------------------------------------------------------------
// Function app on Flex Consumption
// ---------------------------------------------------------------------------

module api './app/function-app.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: union(tags, {
      'azd-service-name': apiServiceName
    })
    planTags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyInstanceCount: alwaysReadyInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    frontDoorId: frontDoorProfile.outputs.frontDoorId
    allowedOrigins: originList
    upstreamHeaders: upstreamHeaderList
    proxySettings: {
      ReplayProxy__Region: region
      ReplayProxy__FrontDoorId: frontDoorProfile.outputs.frontDoorId
      ReplayProxy__AllowedOrigins: join(originList, ',')
      ReplayProxy__AllowedApiKeys: apiKeyList
      ReplayProxy__UpstreamTimeoutSeconds: string(upstreamTimeoutSeconds)
      ReplayProxy__MaxRequestBodyBytes: string(maxRequestBodyBytes)
      // The host reads every Content-Length body whole before the worker runs, up to its own limit (100 MB unless set).
      // Just above the proxy's: a body a little over maxRequestBodyBytes still gets the proxy's 413 "payload size
      // exceeded", on which the replay SDK splits its batch; a larger one is refused by the host before it is read.
      FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: string(maxRequestBodyBytes + 1048576)
      ReplayProxy__Paths__Track: proxyPaths.Track
      ReplayProxy__Paths__Config: proxyPaths.Config
      ReplayProxy__Paths__HttpApi: proxyPaths.HttpApi
      ReplayProxy__Paths__Batch: proxyPaths.Batch
      ReplayProxy__Paths__Legacy: proxyPaths.Legacy
    }
  }
  // The identity must hold Storage Blob Data Owner before the host reads its deployment package.
  dependsOn: [
    rbac
  ]
}

// ---------------------------------------------------------------------------
// Front Door endpoint, origin, route, custom domain, WAF, logs
// ---------------------------------------------------------------------------

module frontDoor './app/frontdoor.bicep' = {
  name: 'frontdoor'
  scope: rg
  params: {
    profileName: frontDoorProfile.outputs.name
    endpointName: 'ep-${resourceToken}'
    originHostName: api.outputs.defaultHostName
    customDomainName: customDomainName
    dnsZoneId: manageDnsRecords ? resourceId(subscription().subscriptionId, dnsZoneResourceGroup, 'Microsoft.Network/dnsZones', dnsZoneName) : ''
    wafPolicyName: wafPolicyName
    wafRateLimitPerMinute: wafRateLimitPerMinute
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    tags: tags
  }
}

// Optional: create the validation TXT and the CNAME in an Azure DNS zone (possibly another resource group).
module dnsRecords './app/dns-records.bicep' = if (manageDnsRecords) {
  name: 'dns-records-${resourceToken}'
  scope: resourceGroup(dnsZoneResourceGroup)
  params: {
    zoneName: dnsZoneName
    recordName: dnsRecordName
    cnameTarget: frontDoor.outputs.endpointHostName
    validationToken: frontDoor.outputs.customDomainValidationToken
  }
}

// ---------------------------------------------------------------------------
// Outputs (azd stores them in .azure/<env>/.env; the postprovision hook prints them)
// ---------------------------------------------------------------------------

var publicHostName = useCustomDomain ? customDomainName : frontDoor.outputs.endpointHostName

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output AMPLITUDE_REGION string = region
// The site's real host name (not always <name>.azurewebsites.net); it answers 403 to direct requests.
output FUNCTION_APP_DEFAULT_HOSTNAME string = api.outputs.defaultHostName
output FRONT_DOOR_ENDPOINT_HOSTNAME string = frontDoor.outputs.endpointHostName
output FRONT_DOOR_PROFILE_NAME string = frontDoorProfile.outputs.name
output FRONT_DOOR_ID string = frontDoorProfile.outputs.frontDoorId
output CUSTOM_DOMAIN_NAME string = customDomainName
output CUSTOM_DOMAIN_CNAME_TARGET string = useCustomDomain ? frontDoor.outputs.endpointHostName : ''
output CUSTOM_DOMAIN_VALIDATION_RECORD_NAME string = useCustomDomain ? '_dnsauth.${customDomainName}' : ''
output CUSTOM_DOMAIN_VALIDATION_RECORD_VALUE string = frontDoor.outputs.customDomainValidationToken
output CUSTOM_DOMAIN_DNS_MANAGED string = manageDnsRecords ? 'true' : 'false'
output PROXY_BASE_URL string = 'https://${publicHostName}'
// The SDK URLs the postprovision hook prints (the paths are ReplayProxy__Paths__*).
output PROXY_TRACK_URL string = 'https://${publicHostName}${proxyPaths.Track}'
output PROXY_CONFIG_URL string = 'https://${publicHostName}${proxyPaths.Config}'
output PROXY_HTTPAPI_URL string = 'https://${publicHostName}${proxyPaths.HttpApi}'
output PROXY_BATCH_URL string = 'https://${publicHostName}${proxyPaths.Batch}'
output PROXY_LEGACY_URL string = 'https://${publicHostName}${proxyPaths.Legacy}'
