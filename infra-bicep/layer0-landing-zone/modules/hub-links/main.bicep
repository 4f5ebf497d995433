metadata name = 'Hub side of a spoke'
metadata description = 'Deployed into the hub resource group after a spoke: the hub-to-spoke peering and the links of every private DNS zone to the spoke VNet.'

targetScope = 'resourceGroup'

@description('Required. Name of the hub VNet (in this resource group).')
param hubVnetName string

@description('Required. Resource id of the spoke VNet.')
param spokeVnetId string

@description('Required. Names of the private DNS zones (in this resource group).')
param privateDnsZoneNames array

@description('Optional. Tags.')
param tags object = {}

var spokeVnetName = last(split(spokeVnetId, '/'))

resource hubVnet 'Microsoft.Network/virtualNetworks@2025-05-01' existing = {
  name: hubVnetName
}

resource hubToSpoke 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings@2025-05-01' = {
  parent: hubVnet
  name: 'peer-to-${spokeVnetName}'
  properties: {
    remoteVirtualNetwork: {
      id: spokeVnetId
    }
    allowVirtualNetworkAccess: true
    allowForwardedTraffic: true
    allowGatewayTransit: false
    useRemoteGateways: false
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' existing = [for zoneName in privateDnsZoneNames: {
  name: zoneName
}]

resource spokeLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (zoneName, i) in privateDnsZoneNames: {
  parent: zones[i]
  name: 'link-${spokeVnetName}'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: spokeVnetId
    }
  }
}]
