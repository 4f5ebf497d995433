using '../main.bicep'

// Deploy into the layer 1 resource group of the dev stamp (rg-plat-dev-westeurope), after layer 2.
// Example values: replace the subscription id and names with your own.
param environment = 'dev'
param location = 'westeurope'
param clusterName = 'aks-plat-dev-westeurope'
param spokeResourceGroupName = 'rg-plat-dev-spoke-westeurope'
param spokeVnetName = 'vnet-plat-dev-spoke-westeurope'
param keyVaultPrivateDnsZoneId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-dev-hub-westeurope/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
param logAnalyticsWorkspaceId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-dev-monitoring-westeurope/providers/Microsoft.OperationalInsights/workspaces/log-plat-dev-westeurope'
param gitRepositoryUrl = 'https://github.com/contoso/platform-config'
param gitBranch = 'dev'
param syncIntervalInSeconds = 120
// The teams and their service identities come from `platform team render` (never edited here): the render of
// examples/northwind/platform.yaml. Point these two paths at your config repository's render (<tenancy.out>/bicep).
param teams = loadJsonContent('../../../examples/northwind/teams/bicep/layer3.parameters.json', '$.parameters.teams.value')
param workloadIdentities = loadJsonContent('../../../examples/northwind/teams/bicep/layer3.parameters.json', '$.parameters.workloadIdentities.value')
// Vault names are global: this example loads the same render as prod, so a real dev renders its own
// platform.yaml (its own vault names) before both are deployed.
param tags = {
  costCenter: 'platform'
}
