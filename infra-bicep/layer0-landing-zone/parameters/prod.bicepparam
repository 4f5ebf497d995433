using '../main.bicep'

// Example values for the prod landing zone (deploy at subscription scope).
param environment = 'prod'
param location = 'westeurope'
param namePrefix = 'plat'
param hubAddressPrefix = '10.10.0.0/22'
param spokeAddressPrefix = '10.11.0.0/16'
param gitHosts = [
  'github.com'
]
param grafanaAdminGroupObjectIds = [
  '22222222-2222-2222-2222-222222222222'
]
param allowedContainerImagesRegex = '^(acrplatprod\\.azurecr\\.io|mcr\\.microsoft\\.com)/.+$'
param policyEffect = 'Deny'
param tags = {
  costCenter: 'platform'
}
