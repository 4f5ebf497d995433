metadata name = 'Role on a private DNS zone'

targetScope = 'resourceGroup'

@description('Required. Principal granted the role.')
param principalId string

@description('Required. Name of the private DNS zone in this resource group.')
param zoneName string

@description('Required. Role definition GUID.')
param roleId string

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' existing = {
  name: zoneName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(zone.id, principalId, roleId)
  scope: zone
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
