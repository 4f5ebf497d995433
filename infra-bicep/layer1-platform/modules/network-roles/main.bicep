metadata name = 'AKS control-plane network roles'
metadata description = 'Deployed into the resource group of the spoke VNet and the private DNS zone: grants the AKS control-plane identity Network Contributor on the spoke VNet and Private DNS Zone Contributor on privatelink.<region>.azmk8s.io, which a private cluster with a custom zone and a BYO subnet needs before it is created.'

targetScope = 'resourceGroup'

@description('Required. Principal id of the AKS control-plane identity.')
param controlPlanePrincipalId string

@description('Required. Name of the spoke VNet (in this resource group).')
param spokeVnetName string

@description('Required. Resource id of the API server private DNS zone (may be in another resource group).')
param apiServerPrivateDnsZoneId string

var networkContributorRoleId = '4d97b98b-1d4f-4787-a291-c67834d212e7'
var privateDnsZoneContributorRoleId = 'b12aa53e-6015-4669-85d0-8515ebb3ae7f'
var zoneIdParts = split(apiServerPrivateDnsZoneId, '/')

resource spokeVnet 'Microsoft.Network/virtualNetworks@2025-05-01' existing = {
  name: spokeVnetName
}

resource networkContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(spokeVnet.id, controlPlanePrincipalId, networkContributorRoleId)
  scope: spokeVnet
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', networkContributorRoleId)
    principalId: controlPlanePrincipalId
    principalType: 'ServicePrincipal'
  }
}

module zoneRole 'zone-role.bicep' = {
  name: 'aks-dns-zone-role'
  scope: resourceGroup(zoneIdParts[2], zoneIdParts[4])
  params: {
    principalId: controlPlanePrincipalId
    zoneName: last(zoneIdParts)
    roleId: privateDnsZoneContributorRoleId
  }
}
