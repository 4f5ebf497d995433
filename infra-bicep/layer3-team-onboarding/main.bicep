metadata name = 'Layer 3 - team onboarding'
metadata description = 'The Azure side of the teams that `platform team render` generates from platform.yaml: one user-assigned identity per service, federated with its ServiceAccount (workload identity, no secrets), exactly the role assignments the render lists (least privilege), a private Key Vault per team that declares one, and the Flux configuration that reconciles the rendered manifests. Parameters come from the render (bicep/layer3.parameters.json), never by hand.'

targetScope = 'resourceGroup'

// The types below mirror what `platform team render` writes (packages/tenancy); sealed, so a field the render
// adds or renames fails the deployment instead of being ignored. packages/iac/src/layer3.test.ts holds them equal.

@sealed()
@description('A team, as the render writes it (parameters.teams).')
type teamType = {
  @description('Team name (a DNS label).')
  name: string

  @description('Kubernetes namespace of the team.')
  namespace: string

  @description('Entra group object ids of the owners (bound in the namespace by the render).')
  owners: string[]

  @description('Namespace quota: requests.cpu.')
  cpu: string

  @description('Namespace quota: requests.memory.')
  memory: string

  @description('Namespace quota: number of pods.')
  pods: int

  @description('The team Key Vault (3-24 characters, globally unique); absent when the team reads no secrets.')
  keyVaultName: string?
}

@sealed()
@description('A federated identity credential: the ServiceAccount token the identity trusts.')
type federatedCredentialType = {
  @description('Credential name.')
  name: string

  @description('system:serviceaccount:<namespace>:<serviceAccount>.')
  subject: string

  @description('Token audiences (api://AzureADTokenExchange).')
  audiences: string[]
}

@sealed()
@description('A role the identity needs: on a resource id (scope) or on its team vault (keyVaultName).')
type roleAssignmentType = {
  @description('Built-in role name (a key of builtInRoles).')
  role: string

  @description('Resource id the role is granted on.')
  scope: string?

  @description('The team vault the role is granted on.')
  keyVaultName: string?
}

@sealed()
@description('One service workload identity (parameters.workloadIdentities).')
type workloadIdentityType = {
  @description('User-assigned identity name.')
  name: string

  @description('Team the service belongs to.')
  team: string

  @description('Namespace of the ServiceAccount.')
  namespace: string

  @description('ServiceAccount the workload runs as.')
  serviceAccount: string

  @description('Flux variable that carries the client id into the rendered ServiceAccount annotation.')
  clientIdVariable: string

  federatedCredential: federatedCredentialType

  roleAssignments: roleAssignmentType[]
}

@description('Required. Environment name (dev, prod, standby).')
param environment string

@description('Optional. Region of the stamp.')
param location string = resourceGroup().location

@description('Required. Name of the AKS cluster (layer 1) in this resource group.')
param clusterName string

@description('Required. The teams (from the render: loadJsonContent(<render>/bicep/layer3.parameters.json, \'$.parameters.teams.value\')).')
param teams teamType[]

@description('Required. One identity per service (from the render: \'$.parameters.workloadIdentities.value\').')
param workloadIdentities workloadIdentityType[]

@description('Optional. Create the team vaults here (true), or grant on vaults another stamp created (false: the warm standby uses the primary\'s).')
param createTeamVaults bool = true

@description('Optional. Resource group of the team vaults (this one when they are created here).')
param teamVaultResourceGroupName string = resourceGroup().name

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

@description('Required. HTTPS URL of the config repository (where the render is committed).')
param gitRepositoryUrl string

@description('Optional. Branch reconciled.')
param gitBranch string = 'main'

@description('Optional. Name of the Flux GitRepository the rendered Kustomizations use as sourceRef (platform.yaml tenancy.source.name).')
param sourceName string = 'config-repo'

@description('Optional. The render directory in the config repository (platform.yaml tenancy.out); its flux/ folder holds one Kustomization per team.')
param renderPath string = './teams'

@description('Optional. Reconciliation interval in seconds.')
@minValue(60)
param syncIntervalInSeconds int = 300

@description('Optional. Tags.')
param tags object = {}

// Built-in roles the render may name (platform.yaml services[].roles[].role). A name missing here fails the
// deployment (no such property): add its GUID rather than granting something broader.
var builtInRoles = {
  'App Configuration Data Reader': '516239f1-63e1-4d78-a4de-a74fb236a071'
  'Azure Event Hubs Data Receiver': 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  'Azure Event Hubs Data Sender': '2b629674-e913-4c01-ae53-ef4638d8f975'
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  'Key Vault Certificate User': 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba'
  'Key Vault Crypto User': '12338af0-0e69-4776-bea7-57ae8d297424'
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6'
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb'
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  'Storage Queue Data Message Sender': 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
}

var allTags = union(tags, {
  environment: environment
  layer: 'layer3-team-onboarding'
})
var privateEndpointSubnetId = '${resourceId(spokeResourceGroupName, 'Microsoft.Network/virtualNetworks', spokeVnetName)}/subnets/${privateEndpointSubnetName}'

// Every role assignment of every identity, flattened: the identity's index, the role, the resource id it is on.
var grants = flatten(map(range(0, length(workloadIdentities)), i => map(workloadIdentities[i].roleAssignments, r => {
  identity: i
  role: r.role
  scope: r.?scope ?? resourceId(teamVaultResourceGroupName, 'Microsoft.KeyVault/vaults', r.?keyVaultName ?? '')
})))

resource cluster 'Microsoft.ContainerService/managedClusters@2025-10-01' existing = {
  name: clusterName
}

resource identities 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = [for w in workloadIdentities: {
  name: w.name
  location: location
  tags: union(allTags, {
    team: w.team
    serviceAccount: '${w.namespace}/${w.serviceAccount}'
  })
}]

// Federated credentials are written one at a time (concurrent writes under one identity fail).
@batchSize(1)
resource federatedCredentials 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30' = [for (w, i) in workloadIdentities: {
  parent: identities[i]
  name: w.federatedCredential.name
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: w.federatedCredential.subject
    audiences: w.federatedCredential.audiences
  }
}]

// The team's own vault: RBAC, purge protection, no public access, private endpoint in the hub's DNS zone. Who
// reads it is granted below, per identity, from the render.
module teamVaults '../layer1-platform/modules/keyvault/main.bicep' = [for team in teams: if (createTeamVaults && contains(team, 'keyVaultName')) {
  name: '${deployment().name}-kv-${team.name}'
  params: {
    name: team.?keyVaultName ?? ''
    location: location
    privateEndpointSubnetId: privateEndpointSubnetId
    privateDnsZoneId: keyVaultPrivateDnsZoneId
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
    tags: union(allTags, {
      team: team.name
    })
  }
}]

// Exactly the roles the render lists, each on its own resource (never a resource group or subscription).
module roleAssignments 'modules/resource-role-assignment/main.json' = [for (g, k) in grants: {
  name: take('${deployment().name}-role-${k}', 64)
  scope: resourceGroup(split(g.scope, '/')[2], split(g.scope, '/')[4])
  params: {
    resourceId: g.scope
    roleDefinitionGuid: builtInRoles[g.role]
    principalId: identities[g.identity].properties.principalId
    description: '${workloadIdentities[g.identity].namespace}/${workloadIdentities[g.identity].serviceAccount}: ${g.role}'
  }
  dependsOn: [
    teamVaults
  ]
}]

// Reconciles the render: <renderPath>/flux holds one Kustomization per team, each applying <renderPath>/<team>
// from this GitRepository (named as the render's sourceRef expects).
resource render 'Microsoft.KubernetesConfiguration/fluxConfigurations@2025-04-01' = {
  name: sourceName
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
      teams: {
        path: '${renderPath}/flux'
        prune: true
        syncIntervalInSeconds: syncIntervalInSeconds
        timeoutInSeconds: 300
      }
    }
    waitForReconciliation: false
  }
  dependsOn: [
    federatedCredentials
    roleAssignments
  ]
}

@description('Per service identity: the Flux variable and the client id it stands for (the values of ConfigMap flux-system/tenancy-identities).')
output clientIds array = [for (w, i) in workloadIdentities: {
  variable: w.clientIdVariable
  clientId: identities[i].properties.clientId
  identity: w.name
}]

