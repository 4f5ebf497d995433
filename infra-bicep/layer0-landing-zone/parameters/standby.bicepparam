using '../main.bicep'

// Example values for the standby landing zone (deploy at subscription scope).
param environment = 'standby'
param location = 'northeurope'
param namePrefix = 'plat'
param hubAddressPrefix = '10.20.0.0/22'
param spokeAddressPrefix = '10.21.0.0/16'
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
