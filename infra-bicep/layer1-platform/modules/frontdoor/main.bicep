metadata name = 'Front Door Premium with WAF and Private Link origins'
metadata description = 'Azure Front Door Premium profile, WAF policy in Prevention mode (Microsoft_DefaultRuleSet 2.1, Microsoft_BotManagerRuleSet, per-client rate limit), an origin group with HTTPS health probes and one Private Link origin per region (priority 1 primary, 2 standby) reaching the Istio internal ingress gateway.'

targetScope = 'resourceGroup'

@description('Required. Front Door profile name.')
param name string

@description('Required. WAF policy name (alphanumerics only).')
param wafPolicyName string

@description('Required. Origins, one per region: { name, hostName, privateLinkServiceId, privateLinkLocation, priority, weight }. Priority 1 is the primary, 2 the warm standby.')
param origins array

@description('Optional. Path of the HTTPS health probe on the ingress gateway.')
param healthProbePath string = '/healthz/ready'

@description('Optional. Requests per minute per client IP before the rate-limit rule blocks.')
@minValue(10)
param rateLimitThreshold int = 1000

@description('Optional. Log Analytics workspace for access and WAF logs.')
param logAnalyticsWorkspaceId string = ''

@description('Optional. Tags.')
param tags object = {}

resource wafPolicy 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2025-03-01' = {
  name: wafPolicyName
  location: 'Global'
  tags: tags
  sku: {
    name: 'Premium_AzureFrontDoor'
  }
  properties: {
    policySettings: {
      enabledState: 'Enabled'
      mode: 'Prevention'
      requestBodyCheck: 'Enabled'
      customBlockResponseStatusCode: 403
    }
    customRules: {
      rules: [
        {
          name: 'RateLimitPerClientIp'
          priority: 100
          enabledState: 'Enabled'
          ruleType: 'RateLimitRule'
          rateLimitDurationInMinutes: 1
          rateLimitThreshold: rateLimitThreshold
          groupBy: [
            {
              variableName: 'SocketAddr'
            }
          ]
          matchConditions: [
            {
              matchVariable: 'RequestUri'
              operator: 'Any'
              negateCondition: false
              matchValue: []
            }
          ]
          action: 'Block'
        }
      ]
    }
    managedRules: {
      managedRuleSets: [
        {
          ruleSetType: 'Microsoft_DefaultRuleSet'
          ruleSetVersion: '2.1'
          ruleSetAction: 'Block'
        }
        {
          ruleSetType: 'Microsoft_BotManagerRuleSet'
          ruleSetVersion: '1.1'
          ruleSetAction: 'Block'
        }
      ]
    }
  }
}

resource profile 'Microsoft.Cdn/profiles@2025-06-01' = {
  name: name
  location: 'global'
  tags: tags
  sku: {
    name: 'Premium_AzureFrontDoor'
  }
  properties: {
    originResponseTimeoutSeconds: 60
  }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2025-04-15' = {
  parent: profile
  name: '${name}-ep'
  location: 'global'
  tags: tags
  properties: {
    enabledState: 'Enabled'
  }
}

resource originGroup 'Microsoft.Cdn/profiles/originGroups@2025-06-01' = {
  parent: profile
  name: 'istio-ingress'
  properties: {
    sessionAffinityState: 'Disabled'
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
      additionalLatencyInMilliseconds: 50
    }
    healthProbeSettings: {
      probePath: healthProbePath
      probeRequestType: 'HEAD'
      probeProtocol: 'Https'
      probeIntervalInSeconds: 30
    }
  }
}

@batchSize(1)
resource originResources 'Microsoft.Cdn/profiles/originGroups/origins@2025-06-01' = [for origin in origins: {
  parent: originGroup
  name: origin.name
  properties: {
    hostName: origin.hostName
    originHostHeader: origin.hostName
    httpPort: 80
    httpsPort: 443
    priority: origin.priority
    weight: origin.weight
    enabledState: 'Enabled'
    enforceCertificateNameCheck: true
    sharedPrivateLinkResource: {
      privateLink: {
        id: origin.privateLinkServiceId
      }
      privateLinkLocation: origin.privateLinkLocation
      requestMessage: 'Azure Front Door to the Istio internal ingress gateway'
    }
  }
}]

resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2025-04-15' = {
  parent: endpoint
  name: 'default'
  properties: {
    originGroup: {
      id: originGroup.id
    }
    supportedProtocols: [
      'Http'
      'Https'
    ]
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
    patternsToMatch: [
      '/*'
    ]
    enabledState: 'Enabled'
  }
  dependsOn: [
    originResources
  ]
}

resource securityPolicy 'Microsoft.Cdn/profiles/securityPolicies@2025-04-15' = {
  parent: profile
  name: 'waf'
  properties: {
    parameters: {
      type: 'WebApplicationFirewall'
      wafPolicy: {
        id: wafPolicy.id
      }
      associations: [
        {
          domains: [
            {
              id: endpoint.id
            }
          ]
          patternsToMatch: [
            '/*'
          ]
        }
      ]
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: profile
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FrontDoorAccessLog'
        enabled: true
      }
      {
        category: 'FrontDoorHealthProbeLog'
        enabled: true
      }
      {
        category: 'FrontDoorWebApplicationFirewallLog'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the Front Door profile.')
output resourceId string = profile.id

@description('Host name of the endpoint.')
output endpointHostName string = endpoint.properties.hostName

@description('Resource id of the WAF policy.')
output wafPolicyId string = wafPolicy.id
