metadata name = 'Hub network'
metadata description = 'Hub VNet with Azure Firewall Premium (policy: threat intelligence Deny, IDPS Deny, DNS proxy) and the AKS egress FQDN allow-list, plus the private DNS zones of the platform linked to the hub.'

targetScope = 'resourceGroup'

@description('Required. Name prefix, e.g. plat-prod.')
param prefix string

@description('Optional. Location.')
param location string = resourceGroup().location

@description('Required. Address space of the hub VNet (at least /22).')
param hubAddressPrefix string

@description('Required. Address space of the spoke(s), the source of AKS egress rules.')
param spokeAddressPrefixes array

@description('Optional. Git hosts Flux pulls the config repo from.')
param gitHosts array = [
  'github.com'
]

@description('Optional. Availability zones of the firewall.')
param zones array = [
  '1'
  '2'
  '3'
]

@description('Optional. Log Analytics workspace for firewall logs.')
param logAnalyticsWorkspaceId string = ''

@description('Optional. Tags.')
param tags object = {}

var firewallSubnetPrefix = cidrSubnet(hubAddressPrefix, 26, 0)
var privateEndpointSubnetPrefix = cidrSubnet(hubAddressPrefix, 24, 1)

var privateDnsZoneNames = [
  'privatelink.${location}.azmk8s.io'
  'privatelink.azurecr.io'
  'privatelink.vaultcore.azure.net'
  'privatelink.${location}.prometheus.monitor.azure.com'
  'privatelink.grafana.azure.com'
]

resource hubVnet 'Microsoft.Network/virtualNetworks@2025-05-01' = {
  name: 'vnet-${prefix}-hub-${location}'
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        hubAddressPrefix
      ]
    }
    subnets: [
      {
        name: 'AzureFirewallSubnet'
        properties: {
          addressPrefix: firewallSubnetPrefix
        }
      }
      {
        name: 'snet-private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

resource firewallPublicIp 'Microsoft.Network/publicIPAddresses@2025-05-01' = {
  name: 'pip-${prefix}-fw-${location}'
  location: location
  tags: tags
  zones: zones
  sku: {
    name: 'Standard'
    tier: 'Regional'
  }
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

resource firewallPolicy 'Microsoft.Network/firewallPolicies@2025-05-01' = {
  name: 'afwp-${prefix}-${location}'
  location: location
  tags: tags
  properties: {
    sku: {
      tier: 'Premium'
    }
    threatIntelMode: 'Deny'
    dnsSettings: {
      enableProxy: true
    }
    intrusionDetection: {
      mode: 'Deny'
    }
  }
}

// The egress allow-list of a private AKS cluster with UDR (see "Outbound network and FQDN rules for AKS").
resource aksEgressRules 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2025-05-01' = {
  parent: firewallPolicy
  name: 'aks-egress'
  properties: {
    priority: 200
    ruleCollections: [
      {
        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
        name: 'aks-network'
        priority: 200
        action: {
          type: 'Allow'
        }
        rules: [
          {
            ruleType: 'NetworkRule'
            name: 'ntp'
            ipProtocols: [
              'UDP'
            ]
            sourceAddresses: spokeAddressPrefixes
            destinationAddresses: [
              '*'
            ]
            destinationPorts: [
              '123'
            ]
          }
        ]
      }
      {
        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
        name: 'aks-fqdn-allow-list'
        priority: 300
        action: {
          type: 'Allow'
        }
        rules: [
          {
            ruleType: 'ApplicationRule'
            name: 'aks-fqdn-tag'
            sourceAddresses: spokeAddressPrefixes
            protocols: [
              {
                protocolType: 'Https'
                port: 443
              }
              {
                protocolType: 'Http'
                port: 80
              }
            ]
            fqdnTags: [
              'AzureKubernetesService'
            ]
          }
          {
            ruleType: 'ApplicationRule'
            name: 'aks-required'
            sourceAddresses: spokeAddressPrefixes
            protocols: [
              {
                protocolType: 'Https'
                port: 443
              }
            ]
            targetFqdns: [
              'mcr.microsoft.com'
              '*.data.mcr.microsoft.com'
              'mcr-0001.mcr-msedge.net'
              'management.azure.com'
              'login.microsoftonline.com'
              'packages.microsoft.com'
              'acs-mirror.azureedge.net'
              'packages.aks.azure.com'
            ]
          }
          {
            ruleType: 'ApplicationRule'
            name: 'monitoring-and-defender'
            sourceAddresses: spokeAddressPrefixes
            protocols: [
              {
                protocolType: 'Https'
                port: 443
              }
            ]
            targetFqdns: [
              'dc.services.visualstudio.com'
              '*.ods.opinsights.azure.com'
              '*.oms.opinsights.azure.com'
              '*.monitoring.azure.com'
              '*.ingest.monitor.azure.com'
              '*.metrics.ingest.monitor.azure.com'
              '*.handler.control.monitor.azure.com'
              'global.handler.control.monitor.azure.com'
              '${location}.handler.control.monitor.azure.com'
              '*.cloud.defender.microsoft.com'
            ]
          }
          {
            ruleType: 'ApplicationRule'
            name: 'azure-policy'
            sourceAddresses: spokeAddressPrefixes
            protocols: [
              {
                protocolType: 'Https'
                port: 443
              }
            ]
            targetFqdns: [
              'data.policy.core.windows.net'
              'store.policy.core.windows.net'
            ]
          }
          {
            ruleType: 'ApplicationRule'
            name: 'gitops-flux'
            sourceAddresses: spokeAddressPrefixes
            protocols: [
              {
                protocolType: 'Https'
                port: 443
              }
            ]
            targetFqdns: concat([
              '${location}.dp.kubernetesconfiguration.azure.com'
              'arcmktplaceprod.azurecr.io'
              'arcmktplaceprod.centralindia.data.azurecr.io'
              'arcmktplaceprod.japaneast.data.azurecr.io'
              'arcmktplaceprod.westus2.data.azurecr.io'
              'arcmktplaceprod.westeurope.data.azurecr.io'
              'arcmktplaceprod.eastus.data.azurecr.io'
              '*.ingestion.msftcloudes.com'
              '*.microsoftmetrics.com'
              'marketplaceapi.microsoft.com'
            ], gitHosts)
          }
        ]
      }
    ]
  }
}

resource firewall 'Microsoft.Network/azureFirewalls@2025-05-01' = {
  name: 'afw-${prefix}-${location}'
  location: location
  tags: tags
  zones: zones
  properties: {
    sku: {
      name: 'AZFW_VNet'
      tier: 'Premium'
    }
    firewallPolicy: {
      id: firewallPolicy.id
    }
    ipConfigurations: [
      {
        name: 'ipconfig'
        properties: {
          subnet: {
            id: '${hubVnet.id}/subnets/AzureFirewallSubnet'
          }
          publicIPAddress: {
            id: firewallPublicIp.id
          }
        }
      }
    ]
  }
  dependsOn: [
    aksEgressRules
  ]
}

resource firewallDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: firewall
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

resource privateDnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for zoneName in privateDnsZoneNames: {
  name: zoneName
  location: 'global'
  tags: tags
}]

resource hubLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (zoneName, i) in privateDnsZoneNames: {
  parent: privateDnsZones[i]
  name: 'link-${hubVnet.name}'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: hubVnet.id
    }
  }
}]

@description('Resource id of the hub VNet.')
output hubVnetId string = hubVnet.id

@description('Name of the hub VNet.')
output hubVnetName string = hubVnet.name

@description('Private IP of the firewall (next hop of the spoke route table and DNS server of the spoke).')
output firewallPrivateIp string = firewall.properties.ipConfigurations[0].properties.privateIPAddress

@description('Names of the private DNS zones, in the order aks, acr, keyvault, prometheus, grafana.')
output privateDnsZoneNames array = privateDnsZoneNames

@description('Resource id of privatelink.<region>.azmk8s.io.')
output aksPrivateDnsZoneId string = privateDnsZones[0].id

@description('Resource id of privatelink.azurecr.io.')
output acrPrivateDnsZoneId string = privateDnsZones[1].id

@description('Resource id of privatelink.vaultcore.azure.net.')
output keyVaultPrivateDnsZoneId string = privateDnsZones[2].id

@description('Resource id of privatelink.<region>.prometheus.monitor.azure.com.')
output prometheusPrivateDnsZoneId string = privateDnsZones[3].id

@description('Resource id of privatelink.grafana.azure.com.')
output grafanaPrivateDnsZoneId string = privateDnsZones[4].id
