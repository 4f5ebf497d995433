metadata name = 'Layer 0 - landing zone'
metadata description = 'Subscription-scope landing zone of one region: resource groups, monitoring (Log Analytics, Azure Monitor workspace, Managed Grafana), hub (Azure Firewall + policy, private DNS zones), spoke (UDR to the firewall, peering, DNS links) and the AKS policy assignments.'

targetScope = 'subscription'

@description('Required. Environment name (dev, prod, standby).')
param environment string

@description('Required. Region of the landing zone.')
param location string

@description('Optional. Short prefix of resource names.')
@maxLength(10)
param namePrefix string = 'plat'

@description('Required. Address space of the hub VNet (at least /22).')
param hubAddressPrefix string

@description('Required. Address space of the spoke VNet (at least /20).')
param spokeAddressPrefix string

@description('Optional. Git hosts Flux may reach through the firewall.')
param gitHosts array = [
  'github.com'
]

@description('Optional. Entra ID groups granted Grafana Admin.')
param grafanaAdminGroupObjectIds array = []

@description('Required. Regex of the container images allowed in the clusters (the platform registry).')
param allowedContainerImagesRegex string

@description('Optional. Effect of the AKS policy assignments (Audit in dev, Deny elsewhere).')
@allowed([
  'Audit'
  'Deny'
])
param policyEffect string = 'Deny'

@description('Optional. Tags.')
param tags object = {}

var prefix = '${namePrefix}-${environment}'
var allTags = union(tags, {
  environment: environment
  layer: 'layer0-landing-zone'
})
// Built-in: "Kubernetes cluster pod security baseline standards for Linux-based workloads" (initiative).
var podSecurityBaselineInitiativeId = '/providers/Microsoft.Authorization/policySetDefinitions/a8640138-9b0a-4a28-b8cb-1666c838647d'
// Built-in: "Kubernetes cluster containers should only use allowed images".
var allowedImagesPolicyId = '/providers/Microsoft.Authorization/policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469'

resource hubRg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${prefix}-hub-${location}'
  location: location
  tags: allTags
}

resource spokeRg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${prefix}-spoke-${location}'
  location: location
  tags: allTags
}

resource monitoringRg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${prefix}-monitoring-${location}'
  location: location
  tags: allTags
}

resource platformRg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${prefix}-${location}'
  location: location
  tags: allTags
}

module monitoring 'modules/monitoring/main.bicep' = {
  name: '${deployment().name}-monitoring'
  scope: monitoringRg
  params: {
    prefix: prefix
    location: location
    grafanaAdminGroupObjectIds: grafanaAdminGroupObjectIds
    tags: allTags
  }
}

module hub 'modules/hub/main.bicep' = {
  name: '${deployment().name}-hub'
  scope: hubRg
  params: {
    prefix: prefix
    location: location
    hubAddressPrefix: hubAddressPrefix
    spokeAddressPrefixes: [
      spokeAddressPrefix
    ]
    gitHosts: gitHosts
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    tags: allTags
  }
}

module spoke 'modules/spoke/main.bicep' = {
  name: '${deployment().name}-spoke'
  scope: spokeRg
  params: {
    prefix: prefix
    location: location
    spokeAddressPrefix: spokeAddressPrefix
    firewallPrivateIp: hub.outputs.firewallPrivateIp
    hubVnetId: hub.outputs.hubVnetId
    azureMonitorWorkspaceId: monitoring.outputs.azureMonitorWorkspaceId
    prometheusPrivateDnsZoneId: hub.outputs.prometheusPrivateDnsZoneId
    grafanaId: monitoring.outputs.grafanaId
    grafanaPrivateDnsZoneId: hub.outputs.grafanaPrivateDnsZoneId
    tags: allTags
  }
}

module hubLinks 'modules/hub-links/main.bicep' = {
  name: '${deployment().name}-hub-links'
  scope: hubRg
  params: {
    hubVnetName: hub.outputs.hubVnetName
    spokeVnetId: spoke.outputs.spokeVnetId
    privateDnsZoneNames: hub.outputs.privateDnsZoneNames
    tags: allTags
  }
}

resource podSecurityBaseline 'Microsoft.Authorization/policyAssignments@2025-03-01' = {
  name: 'aks-pss-baseline-${environment}'
  properties: {
    displayName: 'AKS pod security baseline (${environment})'
    policyDefinitionId: podSecurityBaselineInitiativeId
    enforcementMode: 'Default'
    parameters: {
      effect: {
        value: policyEffect
      }
    }
  }
}

resource allowedImages 'Microsoft.Authorization/policyAssignments@2025-03-01' = {
  name: 'aks-allowed-images-${environment}'
  properties: {
    displayName: 'AKS containers only from the platform registry (${environment})'
    policyDefinitionId: allowedImagesPolicyId
    enforcementMode: 'Default'
    parameters: {
      effect: {
        value: policyEffect
      }
      allowedContainerImagesRegex: {
        value: allowedContainerImagesRegex
      }
      excludedNamespaces: {
        value: [
          'kube-system'
          'gatekeeper-system'
          'azure-arc'
          'aks-istio-system'
          'aks-istio-ingress'
          'flux-system'
        ]
      }
    }
  }
}

@description('Resource group of the layer 1 platform stamp.')
output platformResourceGroupName string = platformRg.name

@description('Resource group of the spoke.')
output spokeResourceGroupName string = spokeRg.name

@description('Name of the spoke VNet.')
output spokeVnetName string = spoke.outputs.spokeVnetName

@description('Private DNS zone ids for layer 1.')
output aksPrivateDnsZoneId string = hub.outputs.aksPrivateDnsZoneId
output acrPrivateDnsZoneId string = hub.outputs.acrPrivateDnsZoneId
output keyVaultPrivateDnsZoneId string = hub.outputs.keyVaultPrivateDnsZoneId

@description('Monitoring ids for layer 1.')
output logAnalyticsWorkspaceId string = monitoring.outputs.logAnalyticsWorkspaceId
output azureMonitorWorkspaceId string = monitoring.outputs.azureMonitorWorkspaceId
