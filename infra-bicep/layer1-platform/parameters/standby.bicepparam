using '../main.bicep'

// Warm standby of production in the paired region: same template, smaller warm pools, no new registry
// (pulls from the prod registry's geo-replica through its own private endpoint), its own Key Vault,
// and no Front Door (the prod deployment already lists this stamp as the priority-2 origin).
param environment = 'standby'
param location = 'northeurope'
param namePrefix = 'plat'
param kubernetesVersion = '1.33'
param istioRevision = 'asm-1-27'
param adminGroupObjectIds = [
  '22222222-2222-2222-2222-222222222222'
]
param spokeResourceGroupName = 'rg-plat-standby-spoke-northeurope'
param spokeVnetName = 'vnet-plat-standby-spoke-northeurope'
param aksPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-standby-hub-northeurope/providers/Microsoft.Network/privateDnsZones/privatelink.northeurope.azmk8s.io'
param acrPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-standby-hub-northeurope/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io'
param keyVaultPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-standby-hub-northeurope/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
param logAnalyticsWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-standby-monitoring-northeurope/providers/Microsoft.OperationalInsights/workspaces/log-plat-standby-northeurope'
param azureMonitorWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-standby-monitoring-northeurope/providers/Microsoft.Monitor/accounts/amw-plat-standby-northeurope'
param registryName = 'acrplatprod'
param createRegistry = false
param registryResourceGroupName = 'rg-plat-prod-westeurope'
param registryReplicationLocations = []
param keyVaultName = 'kv-plat-standby-neu'
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
param systemMaxCount = 6
param generalMinCount = 3
param generalMaxCount = 20
param spotMaxCount = 20
param enableGpuPool = false
param tags = {
  costCenter: 'platform'
  criticality: 'high'
  drRole: 'warm-standby'
}
