metadata name = 'Layer 2 - bootstrap'
metadata description = 'GitOps bootstrap of a layer 1 cluster: the microsoft.flux cluster extension and a fluxConfiguration reconciling the config repo (platform namespaces, mesh security, policies from manifests/). Teams are onboarded by layer 3.'

targetScope = 'resourceGroup'

@description('Required. Name of the AKS cluster (layer 1) in this resource group.')
param clusterName string

@description('Required. HTTPS URL of the config repository.')
param gitRepositoryUrl string

@description('Optional. Branch reconciled.')
param gitBranch string = 'main'

@description('Optional. Path of the manifests in the config repository.')
param manifestsPath string = './infra-bicep/layer2-bootstrap/manifests'

@description('Optional. Reconciliation interval in seconds.')
@minValue(60)
param syncIntervalInSeconds int = 300

@description('Optional. HTTPS user for a private repository (empty: public repository).')
param gitHttpsUser string = ''

@description('Optional. HTTPS token for a private repository.')
@secure()
param gitHttpsKey string = ''

resource cluster 'Microsoft.ContainerService/managedClusters@2025-10-01' existing = {
  name: clusterName
}

resource flux 'Microsoft.KubernetesConfiguration/extensions@2024-11-01' = {
  name: 'flux'
  scope: cluster
  properties: {
    extensionType: 'microsoft.flux'
    autoUpgradeMinorVersion: true
    releaseTrain: 'Stable'
    scope: {
      cluster: {
        releaseNamespace: 'flux-system'
      }
    }
    configurationSettings: {
      'source-controller.enabled': 'true'
      'kustomize-controller.enabled': 'true'
      'helm-controller.enabled': 'true'
      'notification-controller.enabled': 'true'
      'image-automation-controller.enabled': 'false'
      'image-reflector-controller.enabled': 'false'
    }
  }
}

resource platformConfig 'Microsoft.KubernetesConfiguration/fluxConfigurations@2025-04-01' = {
  name: 'platform'
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
      httpsUser: empty(gitHttpsUser) ? null : gitHttpsUser
    }
    configurationProtectedSettings: empty(gitHttpsKey) ? {} : {
      httpsKey: base64(gitHttpsKey)
    }
    kustomizations: {
      namespaces: {
        path: '${manifestsPath}/namespaces'
        prune: true
        syncIntervalInSeconds: syncIntervalInSeconds
        timeoutInSeconds: 300
      }
      mesh: {
        path: '${manifestsPath}/mesh'
        prune: true
        dependsOn: [
          'namespaces'
        ]
        syncIntervalInSeconds: syncIntervalInSeconds
        timeoutInSeconds: 300
      }
      policies: {
        path: '${manifestsPath}/policies'
        prune: true
        dependsOn: [
          'namespaces'
        ]
        syncIntervalInSeconds: syncIntervalInSeconds
        timeoutInSeconds: 300
      }
    }
  }
  dependsOn: [
    flux
  ]
}

@description('Compliance state of the platform configuration.')
output complianceState string = platformConfig.properties.complianceState
