// Records that point a custom domain at Front Door, in an existing Azure DNS zone. Deployed at the
// zone's resource group scope, which may differ from the application's resource group.
@description('Existing Azure DNS zone, e.g. example.com.')
param zoneName string

@description('Custom host name inside the zone, e.g. replay.example.com. The zone apex cannot take a CNAME.')
param customDomainName string

@description('Front Door endpoint host name the CNAME points at.')
param cnameTarget string

@description('Front Door domain validation token for the _dnsauth TXT record.')
param validationToken string

// replay.example.com in zone example.com -> replay. A name outside the zone, or its apex, would write
// records for the wrong name (and the apex cannot take a CNAME), so it stops the deployment instead.
// ARM's endsWith ignores case, as DNS does.
var zoneSuffix = '.${zoneName}'
var relativeName = endsWith(customDomainName, zoneSuffix) && length(customDomainName) > length(zoneSuffix)
  ? substring(customDomainName, 0, length(customDomainName) - length(zoneSuffix))
  : fail('customDomainName (CUSTOM_DOMAIN) \'${customDomainName}\' must be a subdomain inside dnsZoneName (DNS_ZONE_NAME) \'${zoneName}\', such as replay.${zoneName}; the zone apex cannot take a CNAME')

resource zone 'Microsoft.Network/dnsZones@2018-05-01' existing = {
  name: zoneName
}

resource cname 'Microsoft.Network/dnsZones/CNAME@2018-05-01' = {
  parent: zone
  name: relativeName
  properties: {
    TTL: 3600
    CNAMERecord: {
      cname: cnameTarget
    }
  }
}

resource validation 'Microsoft.Network/dnsZones/TXT@2018-05-01' = {
  parent: zone
  name: '_dnsauth.${relativeName}'
  properties: {
    TTL: 3600
    TXTRecords: [
      {
        value: [
          validationToken
        ]
      }
    ]
  }
}

output cnameRecordFqdn string = cname.properties.fqdn
output validationRecordFqdn string = validation.properties.fqdn
