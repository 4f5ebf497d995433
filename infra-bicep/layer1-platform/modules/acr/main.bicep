metadata name = 'Container registry (Premium, private)'
metadata description = 'Premium Azure Container Registry: no admin user, no anonymous pull, public access off, private endpoint, zone redundancy, geo-replication, quarantine/retention policies, AcrPull for the kubelet identity.'

targetScope = 'resourceGroup'

@description('Required. Registry name (5-50 alphanumerics, globally unique).')
@minLength(5)
@maxLength(50)
param name string

@description('Optional. Home location of the registry.')
param location string = resourceGroup().location

@description('Optional. Create the registry (primary region). False: the registry already exists (standby region) and only the private endpoint and AcrPull are added.')
param createRegistry bool = true

@description('Optional. Regions the registry is geo-replicated to (the standby region); the home location is skipped.')
param replicationLocations array = []

@description('Optional. Days untagged manifests are kept.')
@minValue(1)
@maxValue(365)
param retentionDays int = 30

@description('Optional. Quarantine newly pushed images until a scanner releases them (enabled/disabled).')
@allowed([
  'enabled'
  'disabled'
])
param quarantinePolicyStatus string = 'enabled'

@description('Required. Subnet for the private endpoint (in the spoke of the region).')
param privateEndpointSubnetId string

@description('Optional. Location of the private endpoint (the region of its VNet).')
param privateEndpointLocation string = location

@description('Required. Resource id of the private DNS zone privatelink.azurecr.io.')
param privateDnsZoneId string

@description('Required. Principal id of the AKS kubelet identity granted AcrPull.')
param kubeletPrincipalId string

@description('Optional. Log Analytics workspace for registry diagnostics.')
param logAnalyticsWorkspaceId string = ''

@description('Optional. Tags.')
param tags object = {}

var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' = if (createRegistry) {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Premium'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Disabled'
    networkRuleBypassOptions: 'AzureServices'
    dataEndpointEnabled: true
    zoneRedundancy: 'Enabled'
    policies: {
      quarantinePolicy: {
        status: quarantinePolicyStatus
      }
      retentionPolicy: {
        days: retentionDays
        status: 'enabled'
      }
      exportPolicy: {
        status: 'disabled'
      }
    }
  }
}

resource existingRegistry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = if (!createRegistry) {
  name: name
}

resource replications 'Microsoft.ContainerRegistry/registries/replications@2025-11-01' = [for replicaLocation in replicationLocations: if (createRegistry && replicaLocation != location) {
  parent: registry
  name: replicaLocation
  location: replicaLocation
  tags: tags
  properties: {
    regionEndpointEnabled: true
    zoneRedundancy: 'Enabled'
  }
}]

var registryId = resourceId('Microsoft.ContainerRegistry/registries', name)

resource privateEndpoint 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe-${name}-${privateEndpointLocation}'
  location: privateEndpointLocation
  tags: tags
  properties: {
    subnet: {
      id: privateEndpointSubnetId
    }
    privateLinkServiceConnections: [
      {
        name: 'registry'
        properties: {
          privateLinkServiceId: registryId
          groupIds: [
            'registry'
          ]
        }
      }
    ]
  }
  dependsOn: [
    registry
    replications
  ]
}

resource privateDnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-05-01' = {
  parent: privateEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'privatelink-azurecr-io'
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (createRegistry) {
  name: guid(registryId, kubeletPrincipalId, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: kubeletPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource acrPullStandby 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!createRegistry) {
  name: guid(registryId, kubeletPrincipalId, acrPullRoleId)
  scope: existingRegistry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: kubeletPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (createRegistry && !empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: registry
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the registry.')
output resourceId string = registryId

@description('Login server of the registry.')
output loginServer string = '${name}.azurecr.io'
