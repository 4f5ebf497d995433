using '../main.bicep'

// Deploy into the layer 1 resource group of the dev stamp.
param clusterName = 'aks-plat-dev-westeurope'
param gitRepositoryUrl = 'https://github.com/contoso/platform-config'
param gitBranch = 'dev'
param manifestsPath = './infra-bicep/layer2-bootstrap/manifests'
param syncIntervalInSeconds = 120
