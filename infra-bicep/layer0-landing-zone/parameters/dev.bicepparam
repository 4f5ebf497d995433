using '../main.bicep'

// Example values for the dev landing zone (deploy at subscription scope).
param environment = 'dev'
param location = 'westeurope'
param namePrefix = 'plat'
param hubAddressPrefix = '10.0.0.0/22'
param spokeAddressPrefix = '10.1.0.0/16'
param gitHosts = [
  'github.com'
]
param grafanaAdminGroupObjectIds = [
  '22222222-2222-2222-2222-222222222222'
]
param allowedContainerImagesRegex = '^(acrplatdev\\.azurecr\\.io|mcr\\.microsoft\\.com)/.+$'
param policyEffect = 'Audit'
param tags = {
  costCenter: 'platform'
}
