// Times `platform iac check` (the bundled CLI) over Bicep layers: infra-bicep/ when it exists, else N
// generated files shaped like the landing zone (cluster with children, registry, vault, WAF, identities).
// Usage: node test/bench/iac.mjs [--generated] [--files N] [--runs R]   (after npm run build). Goal: < 1 s for all layers.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(repo, "packages", "cli", "dist", "platform.js");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const files = arg("--files", 30);
const runs = arg("--runs", 5);
if (!existsSync(cli)) {
  console.error("build the CLI first: npm run build");
  process.exit(2);
}

function layer(i) {
  return `param env string = 'prod'
var suffix = '\${env}${i}'
resource aks 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  name: 'aks-\${suffix}'
  location: 'westeurope'
  sku: { name: 'Base', tier: 'Standard' }
  properties: {
    disableLocalAccounts: true
    aadProfile: { managed: true, enableAzureRBAC: true }
    apiServerAccessProfile: { enablePrivateCluster: true }
    networkProfile: { networkPlugin: 'azure', networkPolicy: 'cilium', outboundType: 'userDefinedRouting' }
    oidcIssuerProfile: { enabled: true }
    securityProfile: {
      workloadIdentity: { enabled: true }
      defender: { securityMonitoring: { enabled: true } }
      imageCleaner: { enabled: true, intervalHours: 168 }
    }
    addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: 'true' } } }
    autoUpgradeProfile: { upgradeChannel: 'stable', nodeOSUpgradeChannel: 'NodeImage' }
    agentPoolProfiles: [
      { name: 'system', mode: 'System', count: 3, availabilityZones: ['1', '2', '3'] }
      { name: 'general', mode: 'User', enableAutoScaling: true, minCount: 1, maxCount: 5 }
    ]
  }
  resource auto 'maintenanceConfigurations@2025-10-01' = { name: 'aksManagedAutoUpgradeSchedule' }
  resource nodeOs 'maintenanceConfigurations@2025-10-01' = { name: 'aksManagedNodeOSUpgradeSchedule' }
}
resource diag 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit'
  scope: aks
  properties: { logs: [{ category: 'kube-audit-admin', enabled: true }, { category: 'guard', enabled: true }] }
}
module registry './registry.bicep' = { name: 'acr', params: { name: 'acr\${suffix}' } }
resource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: 'kv-\${suffix}'
  properties: { enableRbacAuthorization: true, enablePurgeProtection: true, publicNetworkAccess: 'Disabled' }
}
resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2025-03-01' = {
  name: 'waf\${i}'
  properties: {
    policySettings: { enabledState: 'Enabled', mode: 'Prevention' }
    managedRules: { managedRuleSets: [
      { ruleSetType: 'Microsoft_DefaultRuleSet', ruleSetVersion: '2.1' }
      { ruleSetType: 'Microsoft_BotManagerRuleSet', ruleSetVersion: '1.1' }
    ] }
  }
}
`;
}
const REGISTRY = `param name string
resource acr 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  name: name
  sku: { name: 'Premium' }
  properties: { adminUserEnabled: false, anonymousPullEnabled: false, publicNetworkAccess: 'Disabled', zoneRedundancy: 'Enabled' }
  resource standby 'replications@2025-11-01' = { name: 'northeurope', location: 'northeurope' }
}
`;

let root;
let target;
let label;
let cleanup = () => {};
if (!process.argv.includes("--generated") && existsSync(join(repo, "infra-bicep"))) {
  root = repo;
  target = "infra-bicep";
  label = "infra-bicep/ (all layers)";
} else {
  root = mkdtempSync(join(tmpdir(), "iac-bench-"));
  for (let i = 0; i < files; i++) {
    const d = join(root, "layers", `layer${i}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "main.bicep"), layer(i).replaceAll("$" + "{i}", String(i)));
    writeFileSync(join(d, "registry.bicep"), REGISTRY);
  }
  target = "layers";
  label = `${files} generated layers (${files * 2} files)`;
  cleanup = () => rmSync(root, { recursive: true, force: true });
}

const times = [];
let summary;
for (let r = 0; r < runs; r++) {
  const t = performance.now();
  const p = spawnSync(process.execPath, [cli, "iac", "check", target, "--json", "--root", root], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, NO_COLOR: "1" },
  });
  times.push(performance.now() - t);
  if (p.status !== 0 && p.status !== 1) {
    console.error(p.stderr);
    process.exit(1);
  }
  summary = JSON.parse(p.stdout).summary;
}
cleanup();
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(
  `iac check over ${label}: wall ${median.toFixed(0)} ms median of ${runs} (min ${times[0].toFixed(0)} ms; in-process ${summary.ms} ms), ` +
    `${summary.resources} resources, ${summary.rulesEvaluated} rule evaluations, ${summary.fail} failed / ${summary.unknown} unknown / ${summary.error} errors — goal < 1000 ms: ${median < 1000 ? "met" : "MISSED"}`,
);
