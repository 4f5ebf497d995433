using '../main.bicep'

// Example values: replace the subscription id, group object ids and names with your own.
param environment = 'dev'
param location = 'westeurope'
param namePrefix = 'plat'
param kubernetesVersion = '1.33'
param istioRevision = 'asm-1-27'
param adminGroupObjectIds = [
  '11111111-1111-1111-1111-111111111111'
]
param spokeResourceGroupName = 'rg-plat-dev-spoke-westeurope'
param spokeVnetName = 'vnet-plat-dev-spoke-westeurope'
param aksPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-dev-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.westeurope.azmk8s.io'
param acrPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-dev-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io'
param keyVaultPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-dev-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
param logAnalyticsWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-dev-monitoring-westeurope/providers/Microsoft.OperationalInsights/workspaces/log-plat-dev-westeurope'
param azureMonitorWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-dev-monitoring-westeurope/providers/Microsoft.Monitor/accounts/amw-plat-dev-westeurope'
param registryName = 'acrplatdev'
param createRegistry = true
// Exemption for this environment only (reported as suppressed by `platform iac check`, never silently):
// iac-check: ignore Azure.ACR.GeoReplica dev is single-region by design (no standby); prod replicates to northeurope
param registryReplicationLocations = []
param keyVaultName = 'kv-plat-dev-weu'
// Platform components' workload identities (teams get theirs from layer 3).
param workloadIdentities = [
  {
    name: 'platform-ops'
    namespace: 'platform-system'
    serviceAccount: 'ops'
  }
]
param deployFrontDoor = false
param systemMinCount = 3
param systemMaxCount = 4
param generalMinCount = 3
param generalMaxCount = 5
param spotMaxCount = 5
param enableGpuPool = false
param tags = {
  costCenter: 'platform'
}
