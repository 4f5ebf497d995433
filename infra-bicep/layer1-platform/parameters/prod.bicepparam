using '../main.bicep'

// Primary region of production: creates the registry (geo-replicated to the standby region) and Front Door,
// whose origin group sends traffic to this stamp (priority 1) and fails over to the standby (priority 2).
param environment = 'prod'
param location = 'westeurope'
param namePrefix = 'plat'
param kubernetesVersion = '1.33'
param istioRevision = 'asm-1-27'
param adminGroupObjectIds = [
  '22222222-2222-2222-2222-222222222222'
]
param spokeResourceGroupName = 'rg-plat-prod-spoke-westeurope'
param spokeVnetName = 'vnet-plat-prod-spoke-westeurope'
param aksPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.westeurope.azmk8s.io'
param acrPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io'
param keyVaultPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
param logAnalyticsWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-monitoring-westeurope/providers/Microsoft.OperationalInsights/workspaces/log-plat-prod-westeurope'
param azureMonitorWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-monitoring-westeurope/providers/Microsoft.Monitor/accounts/amw-plat-prod-westeurope'
param registryName = 'acrplatprod'
param createRegistry = true
param registryReplicationLocations = [
  'northeurope'
]
param keyVaultName = 'kv-plat-prod-weu'
// Platform components' workload identities (teams get theirs from layer 3).
param workloadIdentities = [
  {
    name: 'platform-ops'
    namespace: 'platform-system'
    serviceAccount: 'ops'
  }
]
param deployFrontDoor = true
param frontDoorOrigins = [
  {
    name: 'westeurope'
    hostName: 'ingress.westeurope.prod.platform.internal'
    privateLinkServiceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-aks-plat-prod-westeurope-nodes/providers/Microsoft.Network/privateLinkServices/pls-istio-ingress-internal'
    privateLinkLocation: 'westeurope'
    priority: 1
    weight: 1000
  }
  {
    name: 'northeurope'
    hostName: 'ingress.northeurope.prod.platform.internal'
    privateLinkServiceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-aks-plat-standby-northeurope-nodes/providers/Microsoft.Network/privateLinkServices/pls-istio-ingress-internal'
    privateLinkLocation: 'northeurope'
    priority: 2
    weight: 1000
  }
]
param systemMinCount = 3
param systemMaxCount = 6
param generalMinCount = 3
param generalMaxCount = 20
param spotMaxCount = 20
param enableGpuPool = false
param tags = {
  costCenter: 'platform'
  criticality: 'high'
}
