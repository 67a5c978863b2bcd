// Records that point a custom domain at Front Door, in an existing Azure DNS zone. Deployed at the
// zone's resource group scope, which may differ from the application's resource group.
@description('Existing Azure DNS zone, e.g. example.com.')
param zoneName string

@description('Name of the custom domain relative to the zone, e.g. replay for replay.example.com in example.com (main.bicep checks that the domain is inside the zone and not its apex).')
param recordName string

@description('Front Door endpoint host name the CNAME points at.')
param cnameTarget string

@description('Front Door domain validation token for the _dnsauth TXT record.')
param validationToken string

resource zone 'Microsoft.Network/dnsZones@2018-05-01' existing = {
  name: zoneName
}

resource cname 'Microsoft.Network/dnsZones/CNAME@2018-05-01' = {
  parent: zone
  name: recordName
  properties: {
    TTL: 3600
    CNAMERecord: {
      cname: cnameTarget
    }
  }
}

resource validation 'Microsoft.Network/dnsZones/TXT@2018-05-01' = {
  parent: zone
  name: '_dnsauth.${recordName}'
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
