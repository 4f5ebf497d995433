metadata name = 'Monitoring'
metadata description = 'Log Analytics workspace, Azure Monitor workspace (managed Prometheus) and Managed Grafana wired to it (Monitoring Data Reader on the workspace).'

targetScope = 'resourceGroup'

@description('Required. Name prefix, e.g. plat-prod.')
param prefix string

@description('Optional. Location.')
param location string = resourceGroup().location

@description('Optional. Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 90

@description('Optional. Entra ID groups granted Grafana Admin.')
param grafanaAdminGroupObjectIds array = []

@description('Optional. Public network access of Grafana (Disabled: reach it through its private endpoint).')
@allowed([
  'Enabled'
  'Disabled'
])
param grafanaPublicNetworkAccess string = 'Disabled'

@description('Optional. Public network access of the Azure Monitor workspace query endpoint. Keep Enabled until Grafana reaches it through a managed private endpoint; ingestion goes through the data collection endpoint either way.')
@allowed([
  'Enabled'
  'Disabled'
])
param monitorWorkspacePublicNetworkAccess string = 'Enabled'

@description('Optional. Tags.')
param tags object = {}

var monitoringDataReaderRoleId = 'b0d8363b-8ddd-447d-831f-62ca05bff136'
var grafanaAdminRoleId = '22926164-76b3-42b3-bc55-97df8dab3e41'

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: 'log-${prefix}-${location}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource monitorWorkspace 'Microsoft.Monitor/accounts@2023-04-03' = {
  name: 'amw-${prefix}-${location}'
  location: location
  tags: tags
  properties: {
    publicNetworkAccess: monitorWorkspacePublicNetworkAccess
  }
}

resource grafana 'Microsoft.Dashboard/grafana@2024-10-01' = {
  name: 'amg-${prefix}-${location}'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    apiKey: 'Disabled'
    deterministicOutboundIP: 'Disabled'
    publicNetworkAccess: grafanaPublicNetworkAccess
    zoneRedundancy: 'Enabled'
    grafanaIntegrations: {
      azureMonitorWorkspaceIntegrations: [
        {
          azureMonitorWorkspaceResourceId: monitorWorkspace.id
        }
      ]
    }
  }
}

resource grafanaReadsPrometheus 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(monitorWorkspace.id, grafana.id, monitoringDataReaderRoleId)
  scope: monitorWorkspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringDataReaderRoleId)
    principalId: grafana.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource grafanaAdmins 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for groupId in grafanaAdminGroupObjectIds: {
  name: guid(grafana.id, groupId, grafanaAdminRoleId)
  scope: grafana
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grafanaAdminRoleId)
    principalId: groupId
    principalType: 'Group'
  }
}]

@description('Resource id of the Log Analytics workspace.')
output logAnalyticsWorkspaceId string = logAnalytics.id

@description('Resource id of the Azure Monitor workspace.')
output azureMonitorWorkspaceId string = monitorWorkspace.id

@description('Resource id of Managed Grafana.')
output grafanaId string = grafana.id
