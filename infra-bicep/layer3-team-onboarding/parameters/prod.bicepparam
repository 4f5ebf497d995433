using '../main.bicep'

// Deploy into the layer 1 resource group of the prod stamp (rg-plat-prod-westeurope), after layer 2.
// Example values: replace the subscription id and names with your own.
param environment = 'prod'
param location = 'westeurope'
param clusterName = 'aks-plat-prod-westeurope'
param registryName = 'acrplatprod'
param registryResourceGroupName = 'rg-plat-prod-westeurope'
param spokeResourceGroupName = 'rg-plat-prod-spoke-westeurope'
param spokeVnetName = 'vnet-plat-prod-spoke-westeurope'
param keyVaultPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
param logAnalyticsWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-monitoring-westeurope/providers/Microsoft.OperationalInsights/workspaces/log-plat-prod-westeurope'
param istioRevision = 'asm-1-27'
param gitRepositoryUrl = 'https://github.com/contoso/platform-config'
param gitBranch = 'main'
param syncIntervalInSeconds = 300
param teams = [
  {
    name: 'team-a'
    namespace: 'team-a'
    serviceAccount: 'web'
    keyVaultName: 'kv-team-a-prod-weu'
    cpu: '16'
    memory: '32Gi'
    pods: 200
  }
  {
    name: 'team-b'
    namespace: 'team-b'
    serviceAccount: 'api'
    keyVaultName: 'kv-team-b-prod-weu'
    cpu: '8'
    memory: '16Gi'
    pods: 100
  }
]
param tags = {
  costCenter: 'platform'
}
