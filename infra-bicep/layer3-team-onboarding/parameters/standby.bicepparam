using '../main.bicep'

// Deploy into the layer 1 resource group of the standby stamp (rg-plat-standby-northeurope), after layer 2.
// Example values: replace the subscription id and names with your own.
param environment = 'standby'
param location = 'northeurope'
param clusterName = 'aks-plat-standby-northeurope'
param spokeResourceGroupName = 'rg-plat-standby-spoke-northeurope'
param spokeVnetName = 'vnet-plat-standby-spoke-northeurope'
param keyVaultPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-standby-hub-northeurope/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
param logAnalyticsWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-standby-monitoring-northeurope/providers/Microsoft.OperationalInsights/workspaces/log-plat-standby-northeurope'
param gitRepositoryUrl = 'https://github.com/contoso/platform-config'
param gitBranch = 'main'
param syncIntervalInSeconds = 300
// The teams and their service identities come from `platform team render` (never edited here): the render of
// examples/northwind/platform.yaml. Point these two paths at your config repository's render (<tenancy.out>/bicep).
param teams = loadJsonContent('../../../examples/northwind/teams/bicep/layer3.parameters.json', '$.parameters.teams.value')
param workloadIdentities = loadJsonContent('../../../examples/northwind/teams/bicep/layer3.parameters.json', '$.parameters.workloadIdentities.value')
// The warm standby reads the primary's team vaults (vault names are global): grants only, no second vault.
param createTeamVaults = false
param teamVaultResourceGroupName = 'rg-plat-prod-westeurope'
param tags = {
  costCenter: 'platform'
}
