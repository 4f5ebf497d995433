using '../main.bicep'

// Deploy into the layer 1 resource group of the dev stamp (rg-plat-dev-westeurope), after layer 2.
// Example values: replace the subscription id and names with your own.
param environment = 'dev'
param location = 'westeurope'
param clusterName = 'aks-plat-dev-westeurope'
param registryName = 'acrplatdev'
param registryResourceGroupName = 'rg-plat-dev-westeurope'
param spokeResourceGroupName = 'rg-plat-dev-spoke-westeurope'
param spokeVnetName = 'vnet-plat-dev-spoke-westeurope'
param keyVaultPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-dev-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
param logAnalyticsWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-dev-monitoring-westeurope/providers/Microsoft.OperationalInsights/workspaces/log-plat-dev-westeurope'
param istioRevision = 'asm-1-27'
param gitRepositoryUrl = 'https://github.com/contoso/platform-config'
param gitBranch = 'dev'
param syncIntervalInSeconds = 120
param teams = [
  {
    name: 'team-a'
    namespace: 'team-a'
    serviceAccount: 'web'
    keyVaultName: 'kv-team-a-dev-weu'
    cpu: '4'
    memory: '8Gi'
    pods: 50
  }
  {
    name: 'team-b'
    namespace: 'team-b'
    serviceAccount: 'api'
    keyVaultName: 'kv-team-b-dev-weu'
    cpu: '2'
    memory: '4Gi'
    pods: 30
  }
]
param tags = {
  costCenter: 'platform'
}
