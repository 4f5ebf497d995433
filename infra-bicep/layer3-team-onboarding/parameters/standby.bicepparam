using '../main.bicep'

// Deploy into the layer 1 resource group of the standby stamp (rg-plat-standby-northeurope), after layer 2.
// Example values: replace the subscription id and names with your own.
param environment = 'standby'
param location = 'northeurope'
param clusterName = 'aks-plat-standby-northeurope'
param registryName = 'acrplatprod'
param registryResourceGroupName = 'rg-plat-prod-westeurope'
param spokeResourceGroupName = 'rg-plat-standby-spoke-northeurope'
param spokeVnetName = 'vnet-plat-standby-spoke-northeurope'
param keyVaultPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-standby-hub-northeurope/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
param logAnalyticsWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-standby-monitoring-northeurope/providers/Microsoft.OperationalInsights/workspaces/log-plat-standby-northeurope'
param istioRevision = 'asm-1-27'
param gitRepositoryUrl = 'https://github.com/contoso/platform-config'
param gitBranch = 'main'
param syncIntervalInSeconds = 300
param teams = [
  {
    name: 'team-a'
    namespace: 'team-a'
    serviceAccount: 'web'
    keyVaultName: 'kv-team-a-standby-neu'
    cpu: '16'
    memory: '32Gi'
    pods: 200
  }
  {
    name: 'team-b'
    namespace: 'team-b'
    serviceAccount: 'api'
    keyVaultName: 'kv-team-b-standby-neu'
    cpu: '8'
    memory: '16Gi'
    pods: 100
  }
]
param tags = {
  costCenter: 'platform'
}
