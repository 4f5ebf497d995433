metadata name = 'AKS spoke network'
metadata description = 'Spoke VNet for one AKS stamp: node subnet with NSG and a route table sending 0.0.0.0/0 to the hub firewall, private endpoint subnet, Private Link Service subnet for the Istio internal ingress, DNS through the firewall DNS proxy, peering to the hub, and private endpoints of the Azure Monitor workspace and Grafana.'

targetScope = 'resourceGroup'

@description('Required. Name prefix, e.g. plat-prod.')
param prefix string

@description('Optional. Location.')
param location string = resourceGroup().location

@description('Required. Address space of the spoke VNet (at least /20).')
param spokeAddressPrefix string

@description('Required. Private IP of the hub firewall.')
param firewallPrivateIp string

@description('Required. Resource id of the hub VNet.')
param hubVnetId string

@description('Required. Resource id of the Azure Monitor workspace.')
param azureMonitorWorkspaceId string

@description('Required. Resource id of privatelink.<region>.prometheus.monitor.azure.com.')
param prometheusPrivateDnsZoneId string

@description('Required. Resource id of the Managed Grafana instance.')
param grafanaId string

@description('Required. Resource id of privatelink.grafana.azure.com.')
param grafanaPrivateDnsZoneId string

@description('Optional. Tags.')
param tags object = {}

var nodeSubnetPrefix = cidrSubnet(spokeAddressPrefix, 22, 0)
var privateEndpointSubnetPrefix = cidrSubnet(spokeAddressPrefix, 24, 4)
var privateLinkSubnetPrefix = cidrSubnet(spokeAddressPrefix, 24, 5)

resource routeTable 'Microsoft.Network/routeTables@2025-05-01' = {
  name: 'rt-${prefix}-aks-${location}'
  location: location
  tags: tags
  properties: {
    disableBgpRoutePropagation: true
    routes: [
      {
        name: 'default-to-firewall'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: firewallPrivateIp
        }
      }
    ]
  }
}

resource nodeNsg 'Microsoft.Network/networkSecurityGroups@2025-05-01' = {
  name: 'nsg-${prefix}-aks-nodes-${location}'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource privateEndpointNsg 'Microsoft.Network/networkSecurityGroups@2025-05-01' = {
  name: 'nsg-${prefix}-private-endpoints-${location}'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource spokeVnet 'Microsoft.Network/virtualNetworks@2025-05-01' = {
  name: 'vnet-${prefix}-spoke-${location}'
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        spokeAddressPrefix
      ]
    }
    dhcpOptions: {
      dnsServers: [
        firewallPrivateIp
      ]
    }
    subnets: [
      {
        name: 'snet-aks-nodes'
        properties: {
          addressPrefix: nodeSubnetPrefix
          routeTable: {
            id: routeTable.id
          }
          networkSecurityGroup: {
            id: nodeNsg.id
          }
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
      {
        name: 'snet-private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          networkSecurityGroup: {
            id: privateEndpointNsg.id
          }
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
      {
        name: 'snet-private-link-service'
        properties: {
          addressPrefix: privateLinkSubnetPrefix
          privateLinkServiceNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource spokeToHub 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings@2025-05-01' = {
  parent: spokeVnet
  name: 'peer-to-hub'
  properties: {
    remoteVirtualNetwork: {
      id: hubVnetId
    }
    allowVirtualNetworkAccess: true
    allowForwardedTraffic: true
    allowGatewayTransit: false
    useRemoteGateways: false
  }
}

resource prometheusPrivateEndpoint 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe-${prefix}-amw-${location}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: '${spokeVnet.id}/subnets/snet-private-endpoints'
    }
    privateLinkServiceConnections: [
      {
        name: 'prometheusMetrics'
        properties: {
          privateLinkServiceId: azureMonitorWorkspaceId
          groupIds: [
            'prometheusMetrics'
          ]
        }
      }
    ]
  }
}

resource prometheusDnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-05-01' = {
  parent: prometheusPrivateEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'prometheus'
        properties: {
          privateDnsZoneId: prometheusPrivateDnsZoneId
        }
      }
    ]
  }
}

resource grafanaPrivateEndpoint 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe-${prefix}-grafana-${location}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: '${spokeVnet.id}/subnets/snet-private-endpoints'
    }
    privateLinkServiceConnections: [
      {
        name: 'grafana'
        properties: {
          privateLinkServiceId: grafanaId
          groupIds: [
            'grafana'
          ]
        }
      }
    ]
  }
}

resource grafanaDnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-05-01' = {
  parent: grafanaPrivateEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'grafana'
        properties: {
          privateDnsZoneId: grafanaPrivateDnsZoneId
        }
      }
    ]
  }
}

@description('Resource id of the spoke VNet.')
output spokeVnetId string = spokeVnet.id

@description('Name of the spoke VNet.')
output spokeVnetName string = spokeVnet.name

@description('Resource id of the AKS node subnet.')
output nodeSubnetId string = '${spokeVnet.id}/subnets/snet-aks-nodes'

@description('Resource id of the private endpoint subnet.')
output privateEndpointSubnetId string = '${spokeVnet.id}/subnets/snet-private-endpoints'
