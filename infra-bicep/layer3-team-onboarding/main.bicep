metadata name = 'Layer 3 - team onboarding'
metadata description = 'Per team, a namespace-scoped setup on a layer 1 cluster: a user-assigned managed identity federated with the team ServiceAccount (workload identity), AcrPull on the registry, its own private Key Vault (Key Vault Secrets User), and two Flux configurations: the platform-owned onboarding manifests (namespace, quota, limit range, ServiceAccount, default-deny AuthorizationPolicy) and the team-owned workloads, namespace-scoped. No secrets: every value passed to the cluster is an identifier.'

targetScope = 'resourceGroup'

@description('A team to onboard.')
type teamType = {
  @description('Required. Short team name (lowercase, used in resource and Kubernetes names).')
  @minLength(2)
  @maxLength(20)
  name: string

  @description('Required. Kubernetes namespace of the team.')
  namespace: string

  @description('Required. ServiceAccount the workloads run as (federated with the team identity).')
  serviceAccount: string

  @description('Required. Name of the team Key Vault (3-24 characters, globally unique).')
  keyVaultName: string

  @description('Required. Namespace quota: requests.cpu (e.g. \'8\').')
  cpu: string

  @description('Required. Namespace quota: requests.memory (e.g. \'16Gi\').')
  memory: string

  @description('Required. Namespace quota: number of pods.')
  pods: int
}

@description('Required. Environment name (dev, prod, standby).')
param environment string

@description('Optional. Region of the stamp.')
param location string = resourceGroup().location

@description('Required. Name of the AKS cluster (layer 1) in this resource group.')
param clusterName string

@description('Required. Teams to onboard.')
param teams teamType[]

@description('Required. Registry the teams pull from (layer 1).')
param registryName string

@description('Optional. Resource group of the registry (the primary stamp resource group).')
param registryResourceGroupName string = resourceGroup().name

@description('Required. Resource group of the spoke VNet (layer 0).')
param spokeResourceGroupName string

@description('Required. Name of the spoke VNet (layer 0).')
param spokeVnetName string

@description('Optional. Private endpoint subnet of the spoke.')
param privateEndpointSubnetName string = 'snet-private-endpoints'

@description('Required. Private DNS zone privatelink.vaultcore.azure.net (layer 0).')
param keyVaultPrivateDnsZoneId string

@description('Required. Log Analytics workspace for Key Vault audit events (layer 0).')
param logAnalyticsWorkspaceId string

@description('Optional. Istio add-on revision (the namespace label for sidecar injection).')
param istioRevision string = 'asm-1-27'

@description('Required. HTTPS URL of the config repository.')
param gitRepositoryUrl string

@description('Optional. Branch reconciled.')
param gitBranch string = 'main'

@description('Optional. Path of the onboarding template (platform-owned) in the config repository.')
param onboardingPath string = './infra-bicep/layer3-team-onboarding/manifests/team'

@description('Optional. Folder of the team-owned workload paths (<teamsPath>/<team name>) in the config repository.')
param teamsPath string = './infra-bicep/layer3-team-onboarding/manifests/teams'

@description('Optional. Reconciliation interval in seconds.')
@minValue(60)
param syncIntervalInSeconds int = 300

@description('Optional. Tags.')
param tags object = {}

var allTags = union(tags, {
  environment: environment
  layer: 'layer3-team-onboarding'
})
var privateEndpointSubnetId = '${resourceId(spokeResourceGroupName, 'Microsoft.Network/virtualNetworks', spokeVnetName)}/subnets/${privateEndpointSubnetName}'

resource cluster 'Microsoft.ContainerService/managedClusters@2025-10-01' existing = {
  name: clusterName
}

resource teamIdentities 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = [for team in teams: {
  name: 'id-${clusterName}-${team.name}'
  location: location
  tags: union(allTags, {
    team: team.name
  })
}]

// Federated credentials on a user-assigned identity must be written one at a time.
@batchSize(1)
resource federatedCredentials 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30' = [for (team, i) in teams: {
  parent: teamIdentities[i]
  name: '${clusterName}-${team.namespace}-${team.serviceAccount}'
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: 'system:serviceaccount:${team.namespace}:${team.serviceAccount}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}]

module acrPull 'modules/acr-pull/main.bicep' = [for (team, i) in teams: {
  name: '${deployment().name}-acrpull-${team.name}'
  scope: resourceGroup(registryResourceGroupName)
  params: {
    registryName: registryName
    principalId: teamIdentities[i].properties.principalId
  }
}]

// The team's own vault: RBAC, purge protection, no public access, private endpoint in the hub's DNS zone;
// only the team identity reads its secrets.
module teamVaults '../layer1-platform/modules/keyvault/main.bicep' = [for (team, i) in teams: {
  name: '${deployment().name}-kv-${team.name}'
  params: {
    name: team.keyVaultName
    location: location
    privateEndpointSubnetId: privateEndpointSubnetId
    privateDnsZoneId: keyVaultPrivateDnsZoneId
    secretsUserPrincipalIds: [
      teamIdentities[i].properties.principalId
    ]
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
    tags: union(allTags, {
      team: team.name
    })
  }
}]

// Platform-owned: namespace, quota, limit range, ServiceAccount with the workload identity client id,
// default-deny AuthorizationPolicy. Cluster scope (it creates the namespace and its quota).
@batchSize(1)
resource onboarding 'Microsoft.KubernetesConfiguration/fluxConfigurations@2025-04-01' = [for (team, i) in teams: {
  name: 'team-${team.name}-onboarding'
  scope: cluster
  properties: {
    scope: 'cluster'
    namespace: 'flux-system'
    sourceKind: 'GitRepository'
    suspend: false
    gitRepository: {
      url: gitRepositoryUrl
      repositoryRef: {
        branch: gitBranch
      }
      syncIntervalInSeconds: syncIntervalInSeconds
      timeoutInSeconds: 180
    }
    kustomizations: {
      onboarding: {
        path: onboardingPath
        prune: true
        wait: true
        syncIntervalInSeconds: syncIntervalInSeconds
        timeoutInSeconds: 300
        postBuild: {
          substitute: {
            TEAM_NAME: team.name
            TEAM_NAMESPACE: team.namespace
            SERVICE_ACCOUNT: team.serviceAccount
            WORKLOAD_CLIENT_ID: teamIdentities[i].properties.clientId
            TENANT_ID: tenant().tenantId
            ISTIO_REVISION: istioRevision
            QUOTA_CPU: team.cpu
            QUOTA_MEMORY: team.memory
            QUOTA_PODS: string(team.pods)
          }
        }
      }
    }
    waitForReconciliation: true
    reconciliationWaitDuration: 'PT10M'
  }
  dependsOn: [
    federatedCredentials
  ]
}]

// Team-owned: the team's workloads, applied with namespace-scoped permissions only.
resource workloads 'Microsoft.KubernetesConfiguration/fluxConfigurations@2025-04-01' = [for (team, i) in teams: {
  name: 'team-${team.name}'
  scope: cluster
  properties: {
    scope: 'namespace'
    namespace: team.namespace
    sourceKind: 'GitRepository'
    suspend: false
    gitRepository: {
      url: gitRepositoryUrl
      repositoryRef: {
        branch: gitBranch
      }
      syncIntervalInSeconds: syncIntervalInSeconds
      timeoutInSeconds: 180
    }
    kustomizations: {
      workloads: {
        path: '${teamsPath}/${team.name}'
        prune: true
        syncIntervalInSeconds: syncIntervalInSeconds
        timeoutInSeconds: 300
        postBuild: {
          substitute: {
            WORKLOAD_CLIENT_ID: teamIdentities[i].properties.clientId
            TENANT_ID: tenant().tenantId
            KEY_VAULT_NAME: team.keyVaultName
          }
        }
      }
    }
  }
  dependsOn: [
    onboarding
    teamVaults
    acrPull
  ]
}]

@description('Per team: the workload identity client id (azure.workload.identity/client-id), the Key Vault URI and the Flux configurations.')
output teams array = [for (team, i) in teams: {
  name: team.name
  namespace: team.namespace
  serviceAccount: team.serviceAccount
  clientId: teamIdentities[i].properties.clientId
  keyVaultUri: teamVaults[i].outputs.vaultUri
}]
