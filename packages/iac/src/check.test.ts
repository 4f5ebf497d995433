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
  properties: {
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
    }
    apiServerAccessProfile: {
      enablePrivateCluster: true
    }
    networkProfile: {
      networkPlugin: 'azure'
      networkPolicy: 'Cilium'
    }
    oidcIssuerProfile: { enabled: true }
    securityProfile: {
      workloadIdentity: { enabled: true }
    }
    addonProfiles: {
      azureKeyVaultSecretsProvider: {
        enabled: true
        config: { enableSecretRotation: rotation ? 'true' : 'false' }
      }
    }
    autoUpgradeProfile: {
      upgradeChannel: 'stable'
    }
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
  }
}
`;

const KV = `resource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: 'kv-prod'
  properties: {
    enableRbacAuthorization: true
    enablePurgeProtection: true
    publicNetworkAccess: 'disabled'
  }
}
`;

/** One broken control per rule: [rule id, file template, text to replace, replacement, expected line]. */
const BREAKS: [string, string, string, string, number][] = [
  ["Azure.AKS.PrivateCluster", AKS, "enablePrivateCluster: true", "enablePrivateCluster: false", 15],
  ["Azure.AKS.LocalAccounts", AKS, "    disableLocalAccounts: true\n", "", 8],
  ["Azure.AKS.AzureRBAC", AKS, "enableAzureRBAC: true", "enableAzureRBAC: false", 12],
  ["Azure.AKS.NetworkPolicy", AKS, "networkPolicy: 'Cilium'", "networkPolicy: 'none'", 19],
  [
    "Platform.AKS.OIDCIssuer",
    AKS,
    "oidcIssuerProfile: { enabled: true }",
    "oidcIssuerProfile: { enabled: false }",
    21,
  ],
  ["Platform.AKS.WorkloadIdentity", AKS, "workloadIdentity: { enabled: true }", "workloadIdentity: {}", 23],
  ["Azure.AKS.SecretStore", AKS, "        enabled: true\n", "", 26],
  ["Azure.AKS.SecretStoreRotation", AKS, "param rotation bool = true", "param rotation bool = false", 28],
  ["Azure.AKS.AutoUpgrade", AKS, "upgradeChannel: 'stable'", "upgradeChannel: 'none'", 32],
  ["Azure.ACR.AdminUser", ACR, "adminUserEnabled: false", "adminUserEnabled: true", 5],
  ["Azure.ACR.AnonymousAccess", ACR, "anonymousPullEnabled: false", "anonymousPullEnabled: true", 6],
  ["Azure.ACR.Firewall", ACR, "publicNetworkAccess: 'Disabled'", "publicNetworkAccess: 'Enabled'", 7],
  ["Azure.ACR.MinSku", ACR, "name: 'Premium'", "name: 'Standard'", 3],
  ["Azure.KeyVault.RBAC", KV, "enableRbacAuthorization: true", "enableRbacAuthorization: false", 4],
  ["Azure.KeyVault.PurgeProtect", KV, "    enablePurgeProtection: true\n", "", 3],
  [
    "Platform.KeyVault.PublicAccess",
    KV,
    "publicNetworkAccess: 'disabled'",
    "publicNetworkAccess: 'Enabled'",
    6,
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
    const r = await check({ "aks.bicep": AKS, "acr.bicep": ACR, "kv.bicep": KV });
    expect(r.findings).toEqual([]);
    expect(r.rulesEvaluated).toBe(IAC_RULES.length);
    expect(r.resources.map((x) => [x.type, x.name, x.file, x.line])).toEqual([
      ["Microsoft.ContainerRegistry/registries", "acrprod", "acr.bicep", 1],
      ["Microsoft.ContainerService/managedClusters", "aks-prod", "aks.bicep", 5],
      ["Microsoft.KeyVault/vaults", "kv-prod", "kv.bicep", 1],
    ]);
  });

  it("has a failing case for every rule", () => {
    expect(new Set(BREAKS.map((b) => b[0]))).toEqual(new Set(IAC_RULES.map((r) => r.id)));
  });

  it.each(BREAKS)("%s fails with file:line of the property", async (rule, template, from, to, line) => {
    expect(template).toContain(from);
    const r = await check({ "main.bicep": template.replace(from, to) });
    expect(r.findings.map((f) => [f.rule, f.verdict, f.file, f.line])).toEqual([
      [rule, "fail", "main.bicep", line],
    ]);
    expect(r.findings[0]!.message).toMatch(/set /);
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
    expect(r.findings.map((f) => [f.rule, f.line])).toEqual([["Azure.AKS.SecretStoreRotation", 28]]);
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
    const bad = ACR.replace("adminUserEnabled: false", "adminUserEnabled: true");
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
  properties: { adminUserEnabled: base.admin, anonymousPullEnabled: length(regions) > 5, publicNetworkAccess: 'Disabled' }
}]
`;
    const r = await check({ "main.bicep": src });
    expect(r.resources.map((x) => x.name)).toEqual(["acrwesteurope", "acrnortheurope"]);
    expect(r.findings).toEqual([]);
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

  it("reports unsupported syntax (spread) as a parse error", async () => {
    const r = await check({ "main.bicep": "var base = {}\nvar x = {\n  ...base\n}\n" });
    expect(r.findings.map((f) => [f.rule, f.line])).toContainEqual(["Platform.IaC.ParseError", 3]);
  });

  it("reports a missing file instead of crashing", async () => {
    const r = await checkBicep(["nope.bicep"], { root: dir });
    expect(r.findings.map((f) => [f.rule, f.file, f.line])).toEqual([
      ["Platform.IaC.ReadError", "nope.bicep", 1],
    ]);
  });
});
