using '../main.bicep'

// Deploy into the layer 1 resource group of the prod stamp.
param clusterName = 'aks-plat-prod-westeurope'
param gitRepositoryUrl = 'https://github.com/contoso/platform-config'
param gitBranch = 'main'
param manifestsPath = './infra-bicep/layer2-bootstrap/manifests'
param syncIntervalInSeconds = 300
