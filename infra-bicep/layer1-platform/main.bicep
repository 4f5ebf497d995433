metadata name = 'Layer 1 - platform'
metadata description = 'One regional platform stamp: identities, the private AKS cluster, ACR (created in the primary region, geo-replicated to the standby), Key Vault, workload identities with federated credentials, and (once, from the primary) Front Door Premium with WAF. The same template builds the warm standby with parameters/standby.bicepparam.'

targetScope = 'resourceGroup'

@description('Required. Environment name (dev, prod, standby).')
param environment string

@description('Optional. Region of the stamp.')
param location string = resourceGroup().location

@description('Optional. Short prefix of resource names.')
@maxLength(10)
param namePrefix string = 'plat'

@description('Required. Kubernetes minor version; node pools are pinned to it.')
param kubernetesVersion string

@description('Optional. Istio add-on revision.')
param istioRevision string = 'asm-1-27'

@description('Required. Entra ID groups that get cluster admin via Azure RBAC.')
param adminGroupObjectIds array

@description('Required. Resource group of the spoke VNet (layer 0).')
param spokeResourceGroupName string

@description('Required. Name of the spoke VNet (layer 0).')
param spokeVnetName string

@description('Optional. Node subnet of the spoke (route table 0.0.0.0/0 to the firewall).')
param nodeSubnetName string = 'snet-aks-nodes'

@description('Optional. Private endpoint subnet of the spoke.')
param privateEndpointSubnetName string = 'snet-private-endpoints'

@description('Required. Private DNS zone privatelink.<region>.azmk8s.io (layer 0).')
param aksPrivateDnsZoneId string

@description('Required. Private DNS zone privatelink.azurecr.io (layer 0).')
param acrPrivateDnsZoneId string

@description('Required. Private DNS zone privatelink.vaultcore.azure.net (layer 0).')
param keyVaultPrivateDnsZoneId string

@description('Required. Log Analytics workspace (layer 0).')
param logAnalyticsWorkspaceId string

@description('Required. Azure Monitor workspace for managed Prometheus (layer 0).')
param azureMonitorWorkspaceId string

@description('Required. Registry name, shared by the primary and the standby stamp.')
param registryName string

@description('Optional. True in the primary region (creates the registry); false in the standby (uses the geo-replica).')
param createRegistry bool = true

@description('Optional. Resource group of the registry (the primary stamp resource group).')
param registryResourceGroupName string = resourceGroup().name

@description('Optional. Regions the registry replicates to (the standby region).')
param registryReplicationLocations array = []

@description('Required. Key Vault name (one vault per region).')
param keyVaultName string

@description('Optional. Workload identities: [{ name, namespace, serviceAccount }], each federated with the cluster OIDC issuer.')
param workloadIdentities array = []

@description('Optional. Deploy Front Door (once, from the primary stamp).')
param deployFrontDoor bool = false

@description('Optional. Front Door origins: [{ name, hostName, privateLinkServiceId, privateLinkLocation, priority, weight }].')
param frontDoorOrigins array = []

@description('Optional. Node pool sizing.')
param systemMinCount int = 3
param systemMaxCount int = 5
param generalMinCount int = 3
param generalMaxCount int = 10
param spotMaxCount int = 10
param enableGpuPool bool = false

@description('Optional. Tags.')
param tags object = {}

var clusterName = 'aks-${namePrefix}-${environment}-${location}'
var allTags = union(tags, {
  environment: environment
  layer: 'layer1-platform'
})
var spokeVnetId = resourceId(spokeResourceGroupName, 'Microsoft.Network/virtualNetworks', spokeVnetName)
var nodeSubnetId = '${spokeVnetId}/subnets/${nodeSubnetName}'
var privateEndpointSubnetId = '${spokeVnetId}/subnets/${privateEndpointSubnetName}'
var managedIdentityOperatorRoleId = 'f1a07417-d97a-45cb-824c-7a7467783830'

resource controlPlaneIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-${clusterName}-controlplane'
  location: location
  tags: allTags
}

resource kubeletIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-${clusterName}-kubelet'
  location: location
  tags: allTags
}

resource kubeletOperator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(kubeletIdentity.id, controlPlaneIdentity.id, managedIdentityOperatorRoleId)
  scope: kubeletIdentity
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', managedIdentityOperatorRoleId)
    principalId: controlPlaneIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

module networkRoles 'modules/network-roles/main.bicep' = {
  name: '${deployment().name}-network-roles'
  scope: resourceGroup(spokeResourceGroupName)
  params: {
    controlPlanePrincipalId: controlPlaneIdentity.properties.principalId
    spokeVnetName: spokeVnetName
    apiServerPrivateDnsZoneId: aksPrivateDnsZoneId
  }
}

module aks 'modules/aks/main.bicep' = {
  name: '${deployment().name}-aks'
  params: {
    name: clusterName
    location: location
    kubernetesVersion: kubernetesVersion
    istioRevision: istioRevision
    controlPlaneIdentityId: controlPlaneIdentity.id
    kubeletIdentityId: kubeletIdentity.id
    kubeletIdentityClientId: kubeletIdentity.properties.clientId
    kubeletIdentityPrincipalId: kubeletIdentity.properties.principalId
    nodeSubnetId: nodeSubnetId
    apiServerPrivateDnsZoneId: aksPrivateDnsZoneId
    adminGroupObjectIds: adminGroupObjectIds
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
    azureMonitorWorkspaceId: azureMonitorWorkspaceId
    systemMinCount: systemMinCount
    systemMaxCount: systemMaxCount
    generalMinCount: generalMinCount
    generalMaxCount: generalMaxCount
    spotMaxCount: spotMaxCount
    enableGpuPool: enableGpuPool
    tags: allTags
  }
  dependsOn: [
    networkRoles
    kubeletOperator
  ]
}

module acr 'modules/acr/main.bicep' = {
  name: '${deployment().name}-acr'
  scope: resourceGroup(registryResourceGroupName)
  params: {
    name: registryName
    location: location
    createRegistry: createRegistry
    replicationLocations: registryReplicationLocations
    privateEndpointSubnetId: privateEndpointSubnetId
    privateEndpointLocation: location
    privateDnsZoneId: acrPrivateDnsZoneId
    kubeletPrincipalId: kubeletIdentity.properties.principalId
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
    tags: allTags
  }
}

resource workloadIdentityResources 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = [for wi in workloadIdentities: {
  name: 'id-${clusterName}-${wi.name}'
  location: location
  tags: allTags
}]

// Federated credentials on a user-assigned identity must be written one at a time.
@batchSize(1)
resource federatedCredentials 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30' = [for (wi, i) in workloadIdentities: {
  parent: workloadIdentityResources[i]
  name: '${clusterName}-${wi.namespace}-${wi.serviceAccount}'
  properties: {
    issuer: aks.outputs.oidcIssuerUrl
    subject: 'system:serviceaccount:${wi.namespace}:${wi.serviceAccount}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}]

module keyVault 'modules/keyvault/main.bicep' = {
  name: '${deployment().name}-keyvault'
  params: {
    name: keyVaultName
    location: location
    privateEndpointSubnetId: privateEndpointSubnetId
    privateDnsZoneId: keyVaultPrivateDnsZoneId
    secretsUserPrincipalIds: concat([
      aks.outputs.keyVaultSecretsProviderPrincipalId
    ], map(range(0, length(workloadIdentities)), i => workloadIdentityResources[i].properties.principalId))
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
    tags: allTags
  }
}

module frontDoor 'modules/frontdoor/main.bicep' = if (deployFrontDoor) {
  name: '${deployment().name}-frontdoor'
  params: {
    name: 'afd-${namePrefix}-${environment}'
    wafPolicyName: 'waf${namePrefix}${environment}'
    origins: frontDoorOrigins
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
    tags: allTags
  }
}

@description('Resource id of the cluster.')
output clusterId string = aks.outputs.resourceId

@description('Name of the cluster.')
output clusterName string = aks.outputs.name

@description('OIDC issuer URL of the cluster.')
output oidcIssuerUrl string = aks.outputs.oidcIssuerUrl

@description('Login server of the registry.')
output registryLoginServer string = acr.outputs.loginServer

@description('URI of the Key Vault.')
output keyVaultUri string = keyVault.outputs.vaultUri

@description('Client ids of the workload identities, for the azure.workload.identity/client-id annotation.')
output workloadIdentityClientIds array = [for (wi, i) in workloadIdentities: {
  name: wi.name
  clientId: workloadIdentityResources[i].properties.clientId
}]
