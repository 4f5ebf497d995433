import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBicep, IAC_RULES } from "./index.ts";

const AKS = `param location string = resourceGroup().location
param env string = 'prod'
param rotation bool = true
var prefix = 'aks-\${env}'
resource aks 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  name: prefix
  location: location
  sku: { name: 'Base', tier: 'Standard' }
  properties: {
    kubernetesVersion: '1.33'
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
    }
    apiServerAccessProfile: {
      enablePrivateCluster: true
      privateDNSZone: '/subscriptions/0000/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/privatelink.westeurope.azmk8s.io'
    }
    networkProfile: {
      networkPlugin: 'azure'
      networkPolicy: 'Cilium'
      outboundType: 'userDefinedRouting'
    }
    oidcIssuerProfile: { enabled: true }
    securityProfile: {
      workloadIdentity: { enabled: true }
      defender: { securityMonitoring: { enabled: true } }
      imageCleaner: { enabled: true, intervalHours: 168 }
    }
    addonProfiles: {
      azureKeyVaultSecretsProvider: {
        enabled: true
        config: { enableSecretRotation: rotation ? 'true' : 'false' }
      }
      httpApplicationRouting: { enabled: false }
    }
    autoUpgradeProfile: {
      upgradeChannel: 'stable'
      nodeOSUpgradeChannel: 'NodeImage'
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        orchestratorVersion: '1.33.2'
        count: 3
        availabilityZones: ['1', '2', '3']
      }
      {
        name: 'general'
        mode: 'User'
        orchestratorVersion: '1.31'
        enableAutoScaling: true
        minCount: 2
        maxCount: 10
      }
    ]
  }
  resource nodeOs 'maintenanceConfigurations@2025-10-01' = {
    name: 'aksManagedNodeOSUpgradeSchedule'
    properties: {}
  }
}
resource upgrades 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations@2025-10-01' = {
  parent: aks
  name: 'aksManagedAutoUpgradeSchedule'
  properties: {}
}
resource spot 'Microsoft.ContainerService/managedClusters/agentPools@2025-10-01' = {
  parent: aks
  name: 'spot'
  properties: { mode: 'User', enableAutoScaling: true, minCount: 0, maxCount: 5 }
}
resource diag 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit'
  scope: aks
  properties: {
    logs: [
      { category: 'kube-audit-admin', enabled: true }
      { category: 'guard', enabled: true }
    ]
  }
}
`;

const ACR = `resource acr 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  name: 'acrprod'
  sku: { name: 'Premium' }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Disabled'
    zoneRedundancy: 'Enabled'
  }
  resource replica 'replications@2025-11-01' = {
    name: 'northeurope'
    location: 'northeurope'
  }
}
resource acrpe 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe-acrprod'
  properties: {
    privateLinkServiceConnections: [
      { name: 'registry', properties: { privateLinkServiceId: acr.id, groupIds: ['registry'] } }
    ]
  }
  resource dns 'privateDnsZoneGroups@2025-05-01' = {
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [{ name: 'acr', properties: { privateDnsZoneId: zone.id } }]
    }
  }
}
resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' existing = {
  name: 'privatelink.azurecr.io'
}
`;

const KV = `resource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: 'kv-prod'
  properties: {
    enableRbacAuthorization: true
    enablePurgeProtection: true
    publicNetworkAccess: 'disabled'
    enableSoftDelete: true
    networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' }
  }
}
resource kvpe 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe-kv-prod'
  properties: {
    privateLinkServiceConnections: [
      {
        name: 'vault'
        properties: { privateLinkServiceId: resourceId('Microsoft.KeyVault/vaults', 'kv-prod'), groupIds: ['vault'] }
      }
    ]
  }
}
resource kvdns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-05-01' = {
  parent: kvpe
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'vault'
        properties: {
          privateDnsZoneId: '/subscriptions/0000/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'
        }
      }
    ]
  }
}
`;

const AFD = `resource profile 'Microsoft.Cdn/profiles@2025-06-01' = {
  name: 'afd-prod'
  location: 'global'
  sku: { name: 'Premium_AzureFrontDoor' }
  resource originGroup 'originGroups@2025-06-01' = {
    name: 'ingress'
    resource origin 'origins@2025-06-01' = {
      name: 'westeurope'
      properties: {
        hostName: 'ingress.westeurope.internal'
        priority: 1
        sharedPrivateLinkResource: {
          privateLink: { id: '/subscriptions/0000/resourceGroups/rg-nodes/providers/Microsoft.Network/privateLinkServices/pls-ingress' }
          privateLinkLocation: 'westeurope'
          requestMessage: 'Front Door'
        }
      }
    }
  }
}
`;

const WAF = `resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2025-03-01' = {
  name: 'wafprod'
  location: 'global'
  sku: { name: 'Premium_AzureFrontDoor' }
  properties: {
    policySettings: {
      enabledState: 'Enabled'
      mode: 'Prevention'
    }
    managedRules: {
      managedRuleSets: [
        { ruleSetType: 'Microsoft_DefaultRuleSet', ruleSetVersion: '2.1', ruleSetAction: 'Block' }
        { ruleSetType: 'Microsoft_BotManagerRuleSet', ruleSetVersion: '1.1' }
      ]
    }
  }
}
`;

const FIC = `resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-app'
  location: 'westeurope'
  resource fic 'federatedIdentityCredentials@2024-11-30' = {
    name: 'app'
    properties: {
      issuer: 'https://issuer.example'
      subject: 'system:serviceaccount:team:app'
      audiences: ['api://AzureADTokenExchange']
    }
  }
}
`;

/** 1-based line of the first occurrence of `text`. */
const lineOf = (src: string, text: string): number => {
  const i = src.indexOf(text);
  if (i < 0) throw new Error(`fixture lacks ${text}`);
  return src.slice(0, i).split("\n").length;
};

/**
 * One broken control per rule: [rule id, template, text to replace, replacement, text on the expected line
 * (default: the replacement)].
 */
const BREAKS: [string, string, string, string, string?][] = [
  ["Azure.AKS.PrivateCluster", AKS, "enablePrivateCluster: true", "enablePrivateCluster: false"],
  ["Azure.AKS.LocalAccounts", AKS, "    disableLocalAccounts: true\n", "", "  properties: {"],
  ["Azure.AKS.AzureRBAC", AKS, "enableAzureRBAC: true", "enableAzureRBAC: false"],
  ["Azure.AKS.NetworkPolicy", AKS, "networkPolicy: 'Cilium'", "networkPolicy: 'none'"],
  [
    "Platform.AKS.OIDCIssuer",
    AKS,
    "oidcIssuerProfile: { enabled: true }",
    "oidcIssuerProfile: { enabled: false }",
  ],
  ["Platform.AKS.WorkloadIdentity", AKS, "workloadIdentity: { enabled: true }", "workloadIdentity: {}"],
  ["Azure.AKS.SecretStore", AKS, "        enabled: true\n", "", "azureKeyVaultSecretsProvider: {"],
  [
    "Azure.AKS.SecretStoreRotation",
    AKS,
    "param rotation bool = true",
    "param rotation bool = false",
    "config: {",
  ],
  ["Azure.AKS.AutoUpgrade", AKS, "upgradeChannel: 'stable'", "upgradeChannel: 'none'"],
  [
    "Azure.AKS.MaintenanceWindow",
    AKS,
    "name: 'aksManagedAutoUpgradeSchedule'",
    "name: 'default'",
    "resource aks",
  ],
  ["Azure.AKS.NodeAutoUpgrade", AKS, "nodeOSUpgradeChannel: 'NodeImage'", "nodeOSUpgradeChannel: 'None'"],
  ["Azure.AKS.MinNodeCount", AKS, "count: 3", "count: 1"],
  ["Azure.AKS.AvailabilityZone", AKS, "availabilityZones: ['1', '2', '3']", "availabilityZones: ['1']"],
  [
    "Azure.AKS.AutoScaling",
    AKS,
    "enableAutoScaling: true, minCount: 0",
    "enableAutoScaling: false, minCount: 0",
    "  properties: { mode: 'User'",
  ],
  [
    "Azure.AKS.AuditLogs",
    AKS,
    "{ category: 'guard', enabled: true }",
    "{ category: 'guard', enabled: false }",
    "resource aks",
  ],
  [
    "Azure.AKS.DefenderProfile",
    AKS,
    "securityMonitoring: { enabled: true }",
    "securityMonitoring: { enabled: false }",
  ],
  ["Platform.AKS.ImageCleaner", AKS, "imageCleaner: { enabled: true,", "imageCleaner: { enabled: false,"],
  ["Azure.AKS.UptimeSLA", AKS, "tier: 'Standard'", "tier: 'Free'"],
  ["Platform.AKS.EgressFirewall", AKS, "outboundType: 'userDefinedRouting'", "outboundType: 'loadBalancer'"],
  ["Azure.ACR.AdminUser", ACR, "adminUserEnabled: false", "adminUserEnabled: true"],
  ["Azure.ACR.AnonymousAccess", ACR, "anonymousPullEnabled: false", "anonymousPullEnabled: true"],
  ["Azure.ACR.Firewall", ACR, "publicNetworkAccess: 'Disabled'", "publicNetworkAccess: 'Enabled'"],
  ["Azure.ACR.MinSku", ACR, "name: 'Premium'", "name: 'Standard'"],
  ["Platform.ACR.ZoneRedundancy", ACR, "zoneRedundancy: 'Enabled'", "zoneRedundancy: 'Disabled'"],
  [
    "Azure.ACR.GeoReplica",
    ACR,
    "'replications@2025-11-01' = {",
    "'replications@2025-11-01' = if (1 > 2) {",
    "resource acr",
  ],
  ["Azure.KeyVault.RBAC", KV, "enableRbacAuthorization: true", "enableRbacAuthorization: false"],
  ["Azure.KeyVault.PurgeProtect", KV, "    enablePurgeProtection: true\n", "", "  properties: {"],
  ["Platform.KeyVault.PublicAccess", KV, "publicNetworkAccess: 'disabled'", "publicNetworkAccess: 'Enabled'"],
  ["Azure.KeyVault.SoftDelete", KV, "enableSoftDelete: true", "enableSoftDelete: false"],
  ["Azure.FrontDoorWAF.Enabled", WAF, "enabledState: 'Enabled'", "enabledState: 'Disabled'"],
  ["Azure.FrontDoorWAF.PreventionMode", WAF, "mode: 'Prevention'", "mode: 'Detection'"],
  [
    "Azure.FrontDoorWAF.RuleGroups",
    WAF,
    "ruleSetVersion: '2.1'",
    "ruleSetVersion: '1.0'",
    "managedRuleSets: [",
  ],
  [
    "Azure.AKS.HttpAppRouting",
    AKS,
    "httpApplicationRouting: { enabled: false }",
    "httpApplicationRouting: { enabled: true }",
  ],
  ["Azure.AKS.PoolVersion", AKS, "orchestratorVersion: '1.31'", "orchestratorVersion: '1.30'"],
  [
    "Platform.AKS.PrivateDNSZone",
    AKS,
    "privateDNSZone: '/subscriptions/0000/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/privatelink.westeurope.azmk8s.io'",
    "privateDNSZone: 'none'",
  ],
  [
    "Platform.ACR.PrivateEndpoint",
    ACR,
    "groupIds: ['registry']",
    "groupIds: ['registry_data']",
    "resource acr ",
  ],
  [
    "Platform.KeyVault.PrivateEndpoint",
    KV,
    "privateDnsZones/privatelink.vaultcore.azure.net",
    "privateDnsZones/privatelink.blob.core.windows.net",
    "resource kvpe",
  ],
  [
    "Platform.FrontDoor.PrivateLinkOrigin",
    AFD,
    "privateLink: { id: '/subscriptions/0000/resourceGroups/rg-nodes/providers/Microsoft.Network/privateLinkServices/pls-ingress' }",
    "privateLink: { id: '' }",
  ],
  [
    "Platform.Identity.FederatedAudience",
    FIC,
    "audiences: ['api://AzureADTokenExchange']",
    "audiences: ['api://AzureADTokenExchange', 'api://other']",
  ],
];

let dir: string;
let n = 0;
async function check(files: Record<string, string>, parameters?: string) {
  const sub = join(dir, String(n++));
  const { mkdir } = await import("node:fs/promises");
  await mkdir(sub, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(sub, name), text);
  const bicep = Object.keys(files).filter((f) => f.endsWith(".bicep"));
  return checkBicep(bicep, { root: sub, ...(parameters ? { parameters } : {}) });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "iac-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("checkBicep rules", () => {
  it("passes compliant AKS, ACR and Key Vault declarations", async () => {
    const r = await check({
      "aks.bicep": AKS,
      "acr.bicep": ACR,
      "kv.bicep": KV,
      "waf.bicep": WAF,
      "fic.bicep": FIC,
      "afd.bicep": AFD,
    });
    expect(r.findings).toEqual([]);
    expect(r.rulesEvaluated).toBe(IAC_RULES.length);
    expect(r.resources.map((x) => [x.type, x.name, x.file, x.line])).toEqual([
      ["Microsoft.ContainerRegistry/registries", "acrprod", "acr.bicep", 1],
      ["Microsoft.ContainerRegistry/registries/replications", "acrprod/northeurope", "acr.bicep", 10],
      ["Microsoft.Network/privateEndpoints", "pe-acrprod", "acr.bicep", 15],
      ["Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "pe-acrprod/default", "acr.bicep", 22],
      ["Microsoft.Network/privateDnsZones", "privatelink.azurecr.io", "acr.bicep", 29],
      ["Microsoft.Cdn/profiles", "afd-prod", "afd.bicep", 1],
      ["Microsoft.Cdn/profiles/originGroups", "afd-prod/ingress", "afd.bicep", 5],
      ["Microsoft.Cdn/profiles/originGroups/origins", "afd-prod/ingress/westeurope", "afd.bicep", 7],
      ["Microsoft.ContainerService/managedClusters", "aks-prod", "aks.bicep", 5],
      [
        "Microsoft.ContainerService/managedClusters/maintenanceConfigurations",
        "aks-prod/aksManagedNodeOSUpgradeSchedule",
        "aks.bicep",
        60,
      ],
      [
        "Microsoft.ContainerService/managedClusters/maintenanceConfigurations",
        "aks-prod/aksManagedAutoUpgradeSchedule",
        "aks.bicep",
        65,
      ],
      ["Microsoft.ContainerService/managedClusters/agentPools", "aks-prod/spot", "aks.bicep", 70],
      ["Microsoft.Insights/diagnosticSettings", "audit", "aks.bicep", 75],
      ["Microsoft.ManagedIdentity/userAssignedIdentities", "id-app", "fic.bicep", 1],
      [
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        "id-app/app",
        "fic.bicep",
        4,
      ],
      ["Microsoft.KeyVault/vaults", "kv-prod", "kv.bicep", 1],
      ["Microsoft.Network/privateEndpoints", "pe-kv-prod", "kv.bicep", 11],
      ["Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "pe-kv-prod/default", "kv.bicep", 22],
      ["Microsoft.Network/FrontDoorWebApplicationFirewallPolicies", "wafprod", "waf.bicep", 1],
    ]);
  });

  it("has a failing case for every rule", () => {
    // Azure.KeyVault.Firewall fails only together with Platform.KeyVault.PublicAccess: its own case below.
    expect(new Set([...BREAKS.map((b) => b[0]), "Azure.KeyVault.Firewall"])).toEqual(
      new Set(IAC_RULES.map((r) => r.id)),
    );
  });

  it("Azure.KeyVault.Firewall fails only while public network access is on (then the firewall decides)", async () => {
    const allow = KV.replace("defaultAction: 'Deny'", "defaultAction: 'Allow'");
    expect((await check({ "main.bicep": allow })).findings).toEqual([]);
    const open = allow.replace("publicNetworkAccess: 'disabled'", "publicNetworkAccess: 'Enabled'");
    const r = await check({ "main.bicep": open });
    expect(r.findings.map((f) => [f.rule, f.verdict, f.line])).toEqual([
      ["Platform.KeyVault.PublicAccess", "fail", lineOf(open, "publicNetworkAccess: 'Enabled'")],
      ["Azure.KeyVault.Firewall", "fail", lineOf(open, "defaultAction: 'Allow'")],
    ]);
  });

  it.each(BREAKS)("%s fails with file:line of the property", async (rule, template, from, to, anchor) => {
    expect(template).toContain(from);
    const broken = template.replace(from, to);
    const line = lineOf(broken, anchor ?? to);
    const r = await check({ "main.bicep": broken });
    expect(r.findings.map((f) => [f.rule, f.verdict, f.file, f.line])).toEqual([
      [rule, "fail", "main.bicep", line],
    ]);
    expect(r.findings[0]!.message).toMatch(/(set|declare|add|remove) /);
  });
});

describe("static evaluation", () => {
  it("takes parameter values from a .bicepparam file", async () => {
    const r = await check(
      {
        "aks.bicep": AKS,
        "prod.bicepparam": "using './aks.bicep'\nparam env = 'dev'\nparam rotation = false\n",
      },
      "prod.bicepparam",
    );
    expect(r.resources[0]!.name).toBe("aks-dev");
    expect(r.findings.map((f) => [f.rule, f.line])).toEqual([
      ["Azure.AKS.SecretStoreRotation", lineOf(AKS, "config: {")],
    ]);
  });

  it("takes parameter values from an ARM parameters JSON file", async () => {
    const json = JSON.stringify({ parameters: { env: { value: "test" }, rotation: { value: false } } });
    const r = await check({ "aks.bicep": AKS, "p.json": json }, "p.json");
    expect(r.resources[0]!.name).toBe("aks-test");
    expect(r.findings.map((f) => f.rule)).toEqual(["Azure.AKS.SecretStoreRotation"]);
  });

  it("reports unknown values as unknown, never as pass or fail", async () => {
    const r = await check({
      "main.bicep": ACR.replace("'Disabled'", "publicAccess").replace(
        "resource",
        "param publicAccess string\nresource",
      ),
    });
    expect(r.findings.map((f) => [f.rule, f.verdict, f.line])).toEqual([
      ["Azure.ACR.Firewall", "unknown", 8],
    ]);
    expect(r.findings[0]!.message).toContain("publicAccess");
  });

  it("skips resources whose if condition is false and existing resources", async () => {
    const bad = ACR.slice(0, ACR.indexOf("resource acrpe")).replace(
      "adminUserEnabled: false",
      "adminUserEnabled: true",
    );
    const off = `param deployAcr bool = false\n${bad.replace("= {", "= if (deployAcr && true) {")}`;
    const existing = "resource kv 'Microsoft.KeyVault/vaults@2024-11-01' existing = { name: 'x' }\n";
    const r = await check({ "off.bicep": off, "existing.bicep": existing });
    expect(r.findings).toEqual([]);
    expect(r.resources.map((x) => [x.symbol, x.existing])).toEqual([["kv", true]]);
  });

  it("evaluates vars, objects, ternaries, functions and loops", async () => {
    const src = `param regions array = ['westeurope', 'northeurope']
var base = { sku: 'Premium', admin: toLower('FALSE') == 'false' ? false : true }
resource acr 'Microsoft.ContainerRegistry/registries@2025-11-01' = [for r in regions: {
  name: 'acr\${r}'
  sku: { name: base.sku }
  properties: { adminUserEnabled: base.admin, anonymousPullEnabled: length(regions) > 5, publicNetworkAccess: 'Disabled', zoneRedundancy: 'Enabled' }
  resource replica 'replications@2025-11-01' = { name: 'standby' }
}]
param zones array = ['privatelink.azurecr.io', 'privatelink.azurecr.io']
var zoneIds = [for (r, i) in regions: '/subscriptions/0/resourceGroups/hub-\${i}/providers/Microsoft.Network/privateDnsZones/\${zones[i]}']
resource pe 'Microsoft.Network/privateEndpoints@2025-05-01' = [for (r, i) in regions: {
  name: 'pe-\${i}-\${r}'
  properties: {
    privateLinkServiceConnections: [
      { name: 'r', properties: { privateLinkServiceId: resourceId('Microsoft.ContainerRegistry/registries', 'acr\${r}'), groupIds: ['registry'] } }
    ]
  }
  resource dns 'privateDnsZoneGroups@2025-05-01' = {
    name: 'default'
    properties: { privateDnsZoneConfigs: [{ name: 'z', properties: { privateDnsZoneId: zoneIds[i] } }] }
  }
}]
`;
    const r = await check({ "main.bicep": src });
    expect(r.resources.map((x) => x.name)).toEqual([
      "acrwesteurope",
      "acrwesteurope/standby",
      "acrnortheurope",
      "acrnortheurope/standby",
      "pe-0-westeurope",
      "pe-0-westeurope/default",
      "pe-1-northeurope",
      "pe-1-northeurope/default",
    ]);
    expect(r.findings).toEqual([]);
    // The index drives the DNS zone: a wrong zone for the second region fails only that registry.
    const wrong = await check({
      "main.bicep": src.replace(
        "['privatelink.azurecr.io', 'privatelink.azurecr.io']",
        "['privatelink.azurecr.io', 'example.com']",
      ),
    });
    expect(wrong.findings.map((f) => [f.rule, f.resourceName, f.line])).toEqual([
      ["Platform.ACR.PrivateEndpoint", "acrnortheurope", 11],
    ]);
  });

  it("resolves sym[i].name and sym[i].id of a resource loop (private endpoints per vault)", async () => {
    const src = `param names array = ['kv-a', 'kv-b']
resource vaults 'Microsoft.KeyVault/vaults@2024-11-01' = [for n in names: {
  name: n
  properties: { enableRbacAuthorization: true, enablePurgeProtection: true, publicNetworkAccess: 'Disabled', networkAcls: { defaultAction: 'Deny' } }
}]
resource pes 'Microsoft.Network/privateEndpoints@2025-05-01' = [for (n, i) in names: {
  name: 'pe-\${vaults[i].name}'
  properties: {
    privateLinkServiceConnections: [{ name: 'v', properties: { privateLinkServiceId: vaults[i].id, groupIds: ['vault'] } }]
  }
  resource dns 'privateDnsZoneGroups@2025-05-01' = {
    name: 'default'
    properties: { privateDnsZoneConfigs: [{ name: 'z', properties: { privateDnsZoneId: '/subscriptions/0/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net' } }] }
  }
}]
`;
    const r = await check({ "main.bicep": src });
    expect(r.findings).toEqual([]);
    expect(r.resources.filter((x) => x.symbol === "pes").map((x) => x.name)).toEqual(["pe-kv-a", "pe-kv-b"]);
    // Both endpoints pointing at the first vault leave the second without one.
    const wrong = await check({
      "main.bicep": src.replace("privateLinkServiceId: vaults[i].id", "privateLinkServiceId: vaults[0].id"),
    });
    expect(wrong.findings.map((f) => [f.rule, f.resourceName, f.line])).toEqual([
      ["Platform.KeyVault.PrivateEndpoint", "kv-b", 2],
    ]);
  });

  it("names nested child resources after their parent", async () => {
    const src = `${AKS.slice(0, AKS.lastIndexOf("}"))}  resource mc 'maintenanceConfigurations@2025-10-01' = {
    name: 'aksManagedAutoUpgradeSchedule'
  }
}
`;
    const r = await check({ "main.bicep": src });
    expect(r.resources.map((x) => [x.type, x.name])).toContainEqual([
      "Microsoft.ContainerService/managedClusters/maintenanceConfigurations",
      "aks-prod/aksManagedAutoUpgradeSchedule",
    ]);
  });
});

describe("errors become findings", () => {
  it("reports a parse error with file:line and keeps checking", async () => {
    const broken = KV.replace("enablePurgeProtection: true", "enablePurgeProtection: ");
    const r = await check({ "kv.bicep": broken, "acr.bicep": ACR });
    const parse = r.findings.filter((f) => f.rule === "Platform.IaC.ParseError");
    expect(parse.length).toBeGreaterThan(0);
    expect(parse[0]).toMatchObject({ file: "kv.bicep", verdict: "error", severity: "error" });
    expect(parse[0]!.line).toBeGreaterThanOrEqual(5);
    expect(r.resources.map((x) => x.type)).toContain("Microsoft.ContainerRegistry/registries");
  });

  it("reports a missing file instead of crashing", async () => {
    const r = await checkBicep(["nope.bicep"], { root: dir });
    expect(r.findings.map((f) => [f.rule, f.file, f.line])).toEqual([
      ["Platform.IaC.ReadError", "nope.bicep", 1],
    ]);
  });
});

describe("architecture rules beyond one property", () => {
  const only = (r: Awaited<ReturnType<typeof checkBicep>>, rule: string) =>
    r.findings.filter((f) => f.rule === rule).map((f) => [f.verdict, f.line]);

  it("Azure.AKS.PoolVersion: a pool may trail by 2 minors, never lead; one parameter for both is aligned", async () => {
    const ahead = await check({
      "main.bicep": AKS.replace("orchestratorVersion: '1.31'", "orchestratorVersion: '1.34'"),
    });
    expect(only(ahead, "Azure.AKS.PoolVersion")).toEqual([
      ["fail", lineOf(AKS, "orchestratorVersion: '1.31'")],
    ]);
    expect(ahead.findings[0]!.message).toContain("ahead of it");
    const sameParam = AKS.replace("param env string = 'prod'", "param env string = 'prod'\nparam k8s string")
      .replace("kubernetesVersion: '1.33'", "kubernetesVersion: k8s")
      .replace("orchestratorVersion: '1.33.2'", "orchestratorVersion: k8s")
      .replace("orchestratorVersion: '1.31'", "orchestratorVersion: null");
    expect(only(await check({ "main.bicep": sameParam }), "Azure.AKS.PoolVersion")).toEqual([]);
  });

  it("Platform.AKS.PrivateDNSZone: 'system' fails, a zone resource's id passes, an unknown id is unknown", async () => {
    const zone =
      "privateDNSZone: '/subscriptions/0000/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/privatelink.westeurope.azmk8s.io'";
    const system = await check({ "main.bicep": AKS.replace(zone, "privateDNSZone: 'system'") });
    expect(only(system, "Platform.AKS.PrivateDNSZone")).toEqual([["fail", lineOf(AKS, zone)]]);
    const byRef = `${AKS.replace(zone, "privateDNSZone: apiZone.id")}resource apiZone 'Microsoft.Network/privateDnsZones@2024-06-01' existing = {
  name: 'privatelink.westeurope.azmk8s.io'
}
`;
    expect(only(await check({ "main.bicep": byRef }), "Platform.AKS.PrivateDNSZone")).toEqual([]);
    const byParam = `param zoneId string\n${AKS.replace(zone, "privateDNSZone: zoneId")}`;
    expect(only(await check({ "main.bicep": byParam }), "Platform.AKS.PrivateDNSZone")).toEqual([
      ["unknown", lineOf(AKS, zone) + 1],
    ]);
  });

  it("Platform.ACR.PrivateEndpoint: an endpoint without a DNS zone group fails at the endpoint", async () => {
    const start = ACR.indexOf("  resource dns 'privateDnsZoneGroups");
    const noDns = `${ACR.slice(0, start)}}\n${ACR.slice(ACR.indexOf("resource zone"))}`;
    const r = await check({ "main.bicep": noDns });
    expect(only(r, "Platform.ACR.PrivateEndpoint")).toEqual([["fail", lineOf(noDns, "resource acrpe")]]);
    expect(r.findings[0]!.message).toContain(
      "pe-acrprod has no privateDnsZoneGroups entry for privatelink.azurecr.io",
    );
    // An endpoint whose target is a parameter could be this registry's: unknown, not fail.
    const byParam = `param target string\n${ACR.replace("privateLinkServiceId: acr.id", "privateLinkServiceId: target")}`;
    expect(only(await check({ "main.bicep": byParam }), "Platform.ACR.PrivateEndpoint")).toEqual([
      ["unknown", 2],
    ]);
  });
});
