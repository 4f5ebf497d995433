metadata name = 'Private AKS cluster'
metadata description = 'Private, Entra-integrated AKS cluster (Standard tier) with Azure CNI overlay + Cilium, UDR egress through Azure Firewall, Istio add-on with an internal ingress gateway, Key Vault CSI, Azure Policy, Defender, managed Prometheus, planned maintenance and audit diagnostics.'

targetScope = 'resourceGroup'

@description('Required. Name of the managed cluster.')
@minLength(1)
@maxLength(63)
param name string

@description('Optional. Location of the cluster.')
param location string = resourceGroup().location

@description('Optional. DNS prefix of the cluster (1-54 characters).')
@maxLength(54)
param dnsPrefix string = name

@description('Required. Kubernetes version (minor). Every node pool is pinned to the same version.')
param kubernetesVersion string

@description('Required. Resource id of the control-plane user-assigned identity (needs Private DNS Zone Contributor on the API server zone and Network Contributor on the spoke).')
param controlPlaneIdentityId string

@description('Required. Resource id of the kubelet user-assigned identity.')
param kubeletIdentityId string

@description('Required. Client id of the kubelet identity.')
param kubeletIdentityClientId string

@description('Required. Principal (object) id of the kubelet identity.')
param kubeletIdentityPrincipalId string

@description('Required. Resource id of the AKS node subnet (its route table sends 0.0.0.0/0 to the hub firewall).')
param nodeSubnetId string

@description('Required. Resource id of the private DNS zone privatelink.<region>.azmk8s.io for the API server.')
param apiServerPrivateDnsZoneId string

@description('Required. Entra ID group object ids granted cluster admin through Azure RBAC.')
param adminGroupObjectIds array

@description('Required. Resource id of the Log Analytics workspace (diagnostics, Defender).')
param logAnalyticsWorkspaceId string

@description('Required. Resource id of the Azure Monitor workspace (managed Prometheus).')
param azureMonitorWorkspaceId string

@description('Optional. Istio add-on revision.')
param istioRevision string = 'asm-1-27'

@description('Optional. Pod CIDR of the overlay network; must not overlap any VNet.')
param podCidr string = '192.168.0.0/16'

@description('Optional. Service CIDR; must not overlap any VNet.')
param serviceCidr string = '172.16.0.0/16'

@description('Optional. Cluster DNS service IP, inside serviceCidr.')
param dnsServiceIP string = '172.16.0.10'

@description('Optional. VM size of the system pool (must support ephemeral OS disks of osDiskSizeGB).')
param systemVmSize string = 'Standard_D4ds_v5'

@description('Optional. Minimum node count of the system pool (at least 3).')
@minValue(3)
param systemMinCount int = 3

@description('Optional. Maximum node count of the system pool.')
param systemMaxCount int = 5

@description('Optional. VM size of the general user pool.')
param generalVmSize string = 'Standard_D8ds_v5'

@description('Optional. Minimum node count of the general user pool.')
param generalMinCount int = 3

@description('Optional. Maximum node count of the general user pool.')
param generalMaxCount int = 10

@description('Optional. VM size of the spot user pool.')
param spotVmSize string = 'Standard_D8ds_v5'

@description('Optional. Maximum node count of the spot user pool.')
param spotMaxCount int = 10

@description('Optional. Deploy a GPU user pool.')
param enableGpuPool bool = false

@description('Optional. VM size of the GPU pool.')
param gpuVmSize string = 'Standard_NC4as_T4_v3'

@description('Optional. Maximum node count of the GPU pool.')
param gpuMaxCount int = 2

@description('Optional. Ephemeral OS disk size in GB (must fit the VM cache or temp disk).')
param osDiskSizeGB int = 128

@description('Optional. Availability zones of the pools.')
param availabilityZones array = [
  '1'
  '2'
  '3'
]

@description('Optional. Day of the weekly maintenance windows.')
param maintenanceDay string = 'Sunday'

@description('Optional. Start time (HH:mm, UTC offset below) of the cluster upgrade window.')
param upgradeWindowStart string = '02:00'

@description('Optional. Start time (HH:mm) of the node OS upgrade window.')
param nodeOsWindowStart string = '22:00'

@description('Optional. UTC offset of the maintenance windows.')
param maintenanceUtcOffset string = '+00:00'

@description('Optional. Tags.')
param tags object = {}

var nodeResourceGroupName = 'rg-${name}-nodes'

resource aks 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Base'
    tier: 'Standard'
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${controlPlaneIdentityId}': {}
    }
  }
  properties: {
    kubernetesVersion: kubernetesVersion
    dnsPrefix: dnsPrefix
    nodeResourceGroup: nodeResourceGroupName
    nodeResourceGroupProfile: {
      restrictionLevel: 'ReadOnly'
    }
    enableRBAC: true
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
      adminGroupObjectIDs: adminGroupObjectIds
      tenantID: tenant().tenantId
    }
    apiServerAccessProfile: {
      enablePrivateCluster: true
      enablePrivateClusterPublicFQDN: false
      privateDNSZone: apiServerPrivateDnsZoneId
      disableRunCommand: true
    }
    identityProfile: {
      kubeletidentity: {
        resourceId: kubeletIdentityId
        clientId: kubeletIdentityClientId
        objectId: kubeletIdentityPrincipalId
      }
    }
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
      defender: {
        logAnalyticsWorkspaceResourceId: logAnalyticsWorkspaceId
        securityMonitoring: {
          enabled: true
        }
      }
      imageCleaner: {
        enabled: true
        intervalHours: 168
      }
    }
    networkProfile: {
      networkPlugin: 'azure'
      networkPluginMode: 'overlay'
      networkDataplane: 'cilium'
      networkPolicy: 'cilium'
      podCidr: podCidr
      serviceCidr: serviceCidr
      dnsServiceIP: dnsServiceIP
      outboundType: 'userDefinedRouting'
      loadBalancerSku: 'standard'
    }
    serviceMeshProfile: {
      mode: 'Istio'
      istio: {
        revisions: [
          istioRevision
        ]
        components: {
          ingressGateways: [
            {
              enabled: true
              mode: 'Internal'
            }
          ]
        }
      }
    }
    addonProfiles: {
      azureKeyvaultSecretsProvider: {
        enabled: true
        config: {
          enableSecretRotation: 'true'
          rotationPollInterval: '2m'
        }
      }
      azurepolicy: {
        enabled: true
        config: {
          version: 'v2'
        }
      }
      httpApplicationRouting: {
        enabled: false
      }
    }
    azureMonitorProfile: {
      metrics: {
        enabled: true
        kubeStateMetrics: {
          metricLabelsAllowlist: ''
          metricAnnotationsAllowList: ''
        }
      }
    }
    autoUpgradeProfile: {
      upgradeChannel: 'stable'
      nodeOSUpgradeChannel: 'NodeImage'
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        type: 'VirtualMachineScaleSets'
        orchestratorVersion: kubernetesVersion
        vmSize: systemVmSize
        osType: 'Linux'
        osSKU: 'AzureLinux'
        osDiskType: 'Ephemeral'
        osDiskSizeGB: osDiskSizeGB
        availabilityZones: availabilityZones
        enableAutoScaling: true
        count: systemMinCount
        minCount: systemMinCount
        maxCount: systemMaxCount
        maxPods: 50
        vnetSubnetID: nodeSubnetId
        enableNodePublicIP: false
        nodeTaints: [
          'CriticalAddonsOnly=true:NoSchedule'
        ]
        upgradeSettings: {
          maxSurge: '33%'
        }
      }
      {
        name: 'general'
        mode: 'User'
        type: 'VirtualMachineScaleSets'
        orchestratorVersion: kubernetesVersion
        vmSize: generalVmSize
        osType: 'Linux'
        osSKU: 'AzureLinux'
        osDiskType: 'Ephemeral'
        osDiskSizeGB: osDiskSizeGB
        availabilityZones: availabilityZones
        enableAutoScaling: true
        count: generalMinCount
        minCount: generalMinCount
        maxCount: generalMaxCount
        maxPods: 50
        vnetSubnetID: nodeSubnetId
        enableNodePublicIP: false
        upgradeSettings: {
          maxSurge: '33%'
        }
      }
      {
        name: 'spot'
        mode: 'User'
        type: 'VirtualMachineScaleSets'
        orchestratorVersion: kubernetesVersion
        vmSize: spotVmSize
        osType: 'Linux'
        osSKU: 'AzureLinux'
        osDiskType: 'Ephemeral'
        osDiskSizeGB: osDiskSizeGB
        availabilityZones: availabilityZones
        scaleSetPriority: 'Spot'
        scaleSetEvictionPolicy: 'Delete'
        spotMaxPrice: -1
        enableAutoScaling: true
        count: 0
        minCount: 0
        maxCount: spotMaxCount
        maxPods: 50
        vnetSubnetID: nodeSubnetId
        enableNodePublicIP: false
        nodeLabels: {
          'kubernetes.azure.com/scalesetpriority': 'spot'
        }
        nodeTaints: [
          'kubernetes.azure.com/scalesetpriority=spot:NoSchedule'
        ]
      }
    ]
  }
}

resource gpuPool 'Microsoft.ContainerService/managedClusters/agentPools@2025-10-01' = if (enableGpuPool) {
  parent: aks
  name: 'gpu'
  properties: {
    mode: 'User'
    type: 'VirtualMachineScaleSets'
    orchestratorVersion: kubernetesVersion
    vmSize: gpuVmSize
    osType: 'Linux'
    osSKU: 'AzureLinux'
    osDiskType: 'Managed'
    availabilityZones: availabilityZones
    enableAutoScaling: true
    count: 0
    minCount: 0
    maxCount: gpuMaxCount
    maxPods: 50
    vnetSubnetID: nodeSubnetId
    enableNodePublicIP: false
    nodeTaints: [
      'sku=gpu:NoSchedule'
    ]
  }
}

resource autoUpgradeSchedule 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations@2025-10-01' = {
  parent: aks
  name: 'aksManagedAutoUpgradeSchedule'
  properties: {
    maintenanceWindow: {
      schedule: {
        weekly: {
          dayOfWeek: maintenanceDay
          intervalWeeks: 1
        }
      }
      durationHours: 4
      startTime: upgradeWindowStart
      utcOffset: maintenanceUtcOffset
    }
  }
}

resource nodeOsUpgradeSchedule 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations@2025-10-01' = {
  parent: aks
  name: 'aksManagedNodeOSUpgradeSchedule'
  properties: {
    maintenanceWindow: {
      schedule: {
        weekly: {
          dayOfWeek: maintenanceDay
          intervalWeeks: 1
        }
      }
      durationHours: 4
      startTime: nodeOsWindowStart
      utcOffset: maintenanceUtcOffset
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: aks
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'kube-audit-admin'
        enabled: true
      }
      {
        category: 'guard'
        enabled: true
      }
      {
        category: 'kube-apiserver'
        enabled: true
      }
      {
        category: 'kube-controller-manager'
        enabled: true
      }
      {
        category: 'cluster-autoscaler'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

// Managed Prometheus: data collection endpoint, rule to the Azure Monitor workspace, and associations on the cluster.
resource prometheusEndpoint 'Microsoft.Insights/dataCollectionEndpoints@2024-03-11' = {
  name: 'MSProm-${location}-${name}'
  location: location
  kind: 'Linux'
  tags: tags
  properties: {}
}

resource prometheusRule 'Microsoft.Insights/dataCollectionRules@2024-03-11' = {
  name: 'MSProm-${location}-${name}'
  location: location
  kind: 'Linux'
  tags: tags
  properties: {
    dataCollectionEndpointId: prometheusEndpoint.id
    dataSources: {
      prometheusForwarder: [
        {
          name: 'PrometheusDataSource'
          streams: [
            'Microsoft-PrometheusMetrics'
          ]
          labelIncludeFilter: {}
        }
      ]
    }
    destinations: {
      monitoringAccounts: [
        {
          name: 'MonitoringAccount1'
          accountResourceId: azureMonitorWorkspaceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-PrometheusMetrics'
        ]
        destinations: [
          'MonitoringAccount1'
        ]
      }
    ]
  }
}

resource prometheusRuleAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2024-03-11' = {
  name: 'MSProm-${location}-${name}'
  scope: aks
  properties: {
    dataCollectionRuleId: prometheusRule.id
    description: 'Managed Prometheus metrics of the cluster to the Azure Monitor workspace.'
  }
}

resource prometheusEndpointAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2024-03-11' = {
  name: 'configurationAccessEndpoint'
  scope: aks
  properties: {
    dataCollectionEndpointId: prometheusEndpoint.id
  }
}

@description('Resource id of the cluster.')
output resourceId string = aks.id

@description('Name of the cluster.')
output name string = aks.name

@description('OIDC issuer URL for workload identity federated credentials.')
output oidcIssuerUrl string = aks.properties.oidcIssuerProfile.issuerURL

@description('Object id of the Key Vault CSI add-on identity.')
output keyVaultSecretsProviderPrincipalId string = aks.properties.addonProfiles.azureKeyvaultSecretsProvider.identity.objectId

@description('Name of the node resource group.')
output nodeResourceGroup string = aks.properties.nodeResourceGroup
