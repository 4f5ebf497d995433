using '../main.bicep'

// Deploy into the layer 1 resource group of the prod stamp (rg-plat-prod-westeurope), after layer 2.
// Example values: replace the subscription id and names with your own.
param environment = 'prod'
param location = 'westeurope'
param clusterName = 'aks-plat-prod-westeurope'
param spokeResourceGroupName = 'rg-plat-prod-spoke-westeurope'
param spokeVnetName = 'vnet-plat-prod-spoke-westeurope'
param keyVaultPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
param logAnalyticsWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-monitoring-westeurope/providers/Microsoft.OperationalInsights/workspaces/log-plat-prod-westeurope'
param gitRepositoryUrl = 'https://github.com/contoso/platform-config'
param gitBranch = 'main'
param syncIntervalInSeconds = 300
// The teams and their service identities come from `platform team render` (never edited here): the render of
// examples/northwind/platform.yaml. Point these two paths at your config repository's render (<tenancy.out>/bicep).
param teams = loadJsonContent('../../../examples/northwind/teams/bicep/layer3.parameters.json', '$.parameters.teams.value')
param workloadIdentities = loadJsonContent('../../../examples/northwind/teams/bicep/layer3.parameters.json', '$.parameters.workloadIdentities.value')
param tags = {
  costCenter: 'platform'
}
