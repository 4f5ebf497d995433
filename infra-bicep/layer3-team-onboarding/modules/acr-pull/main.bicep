metadata name = 'AcrPull on a registry'
metadata description = 'Grants a principal AcrPull on one container registry (deployed into the registry resource group).'

targetScope = 'resourceGroup'

@description('Required. Name of the registry (in this resource group).')
param registryName string

@description('Required. Principal (object) id granted AcrPull.')
param principalId string

var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = {
  name: registryName
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, principalId, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
