#!/usr/bin/env pwsh
# azd postprovision hook: print the DNS records to create and the SDK settings to use.
# azd exports the environment's values (the Bicep outputs) to hooks; fall back to `azd env get-value`.
$ErrorActionPreference = 'Stop'

function Get-AzdValue([string] $Name) {
    $current = [Environment]::GetEnvironmentVariable($Name)
    if ([string]::IsNullOrEmpty($current) -and (Get-Command azd -ErrorAction SilentlyContinue)) {
        $current = (azd env get-value $Name 2>$null)
        if ($LASTEXITCODE -ne 0 -or "$current" -like 'ERROR*') { $current = '' }
    }
    return "$current"
}

$baseUrl      = Get-AzdValue 'PROXY_BASE_URL'
$endpoint     = Get-AzdValue 'FRONT_DOOR_ENDPOINT_HOSTNAME'
$customDomain = Get-AzdValue 'CUSTOM_DOMAIN_NAME'
$cnameTarget  = Get-AzdValue 'CUSTOM_DOMAIN_CNAME_TARGET'
$txtName      = Get-AzdValue 'CUSTOM_DOMAIN_VALIDATION_RECORD_NAME'
$txtValue     = Get-AzdValue 'CUSTOM_DOMAIN_VALIDATION_RECORD_VALUE'
$dnsManaged   = Get-AzdValue 'CUSTOM_DOMAIN_DNS_MANAGED'
$region       = Get-AzdValue 'AMPLITUDE_REGION'
$resourceGroup = Get-AzdValue 'AZURE_RESOURCE_GROUP'
$profileName  = Get-AzdValue 'FRONT_DOOR_PROFILE_NAME'
$siteHost     = Get-AzdValue 'FUNCTION_APP_DEFAULT_HOSTNAME'
$trackUrl     = Get-AzdValue 'PROXY_TRACK_URL'
$configUrl    = Get-AzdValue 'PROXY_CONFIG_URL'
$httpApiUrl   = Get-AzdValue 'PROXY_HTTPAPI_URL'
$batchUrl     = Get-AzdValue 'PROXY_BATCH_URL'
$legacyUrl    = Get-AzdValue 'PROXY_LEGACY_URL'
if ([string]::IsNullOrEmpty($region)) { $region = 'US' }

Write-Host ''
Write-Host "ReplayFunctions proxy provisioned (Amplitude region: $region)"
Write-Host "  Front Door endpoint: https://$endpoint"

if (-not [string]::IsNullOrEmpty($customDomain)) {
    Write-Host ''
    if ($dnsManaged -eq 'true') {
        Write-Host 'DNS records were created in your Azure DNS zone:'
    } else {
        Write-Host 'Create these DNS records at your DNS host now (the values exist only once provisioning has run):'
    }
    Write-Host "  CNAME  $customDomain  ->  $cnameTarget"
    Write-Host "  TXT    $txtName  =  $txtValue"
    Write-Host ''
    Write-Host 'Front Door validates the domain within minutes of the TXT record resolving; the managed certificate'
    Write-Host "follows, usually within an hour. Until then $customDomain does not answer. Check with:"
    Write-Host "  az afd custom-domain list -g $resourceGroup --profile-name $profileName -o table"
    Write-Host '  (domainValidationState must read Approved; the token expires after 7 days)'
}

Write-Host ''
Write-Host "SDK configuration (base URL $baseUrl):"
Write-Host '  Browser, Session Replay plugin / standalone SDK:'
Write-Host "    trackServerUrl:  '$trackUrl'"
Write-Host "    configServerUrl: '$configUrl'"
Write-Host '  Browser, analytics SDK (amplitude.init options):'
Write-Host "    serverUrl:       '$httpApiUrl'"
Write-Host "    remoteConfig:    { serverUrl: '$configUrl' }"
Write-Host '  iOS, Amplitude-Swift / Android, Amplitude-Kotlin (Configuration):'
Write-Host "    serverUrl:       `"$httpApiUrl`"   (with useBatch: `"$batchUrl`")"
Write-Host '  iOS, Amplitude-iOS 8.x:'
Write-Host "    [[Amplitude instance] setServerUrl:@`"$legacyUrl`"];   (keep useDynamicConfig off)"
Write-Host ''
Write-Host "Check it after 'azd deploy' finishes:"
Write-Host "  curl -i $baseUrl/healthz             # 200"
Write-Host "  curl -i https://$siteHost/healthz    # 403: the app answers only through Front Door"
Write-Host ''
