// Bicep snippets shared by the tests and the benchmark (plain functions: the benchmark imports this file directly).

/**
 * Bicep for a private endpoint to the resource `target` (a symbol of the same file) with `groupId`, and its DNS
 * zone group in the private DNS zone `zone` (Platform.ACR.PrivateEndpoint, Platform.KeyVault.PrivateEndpoint).
 */
export function privateEndpointBicep(target: string, groupId: string, zone: string): string {
  const zoneId = `/subscriptions/0/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/${zone}`;
  return `
resource ${target}Pe 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe-\${${target}.name}'
  properties: {
    privateLinkServiceConnections: [{ name: '${groupId}', properties: { privateLinkServiceId: ${target}.id, groupIds: ['${groupId}'] } }]
  }
  resource dns 'privateDnsZoneGroups@2025-05-01' = {
    name: 'default'
    properties: { privateDnsZoneConfigs: [{ name: '${groupId}', properties: { privateDnsZoneId: '${zoneId}' } }] }
  }
}
`;
}
