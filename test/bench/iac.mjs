// Times `platform iac check` (the bundled CLI, as CI runs it) over all of infra-bicep/ (layers 0–3) once per
// environment (--env dev|prod|standby), plus N generated landing-zone-shaped layers for scaling. Reports wall
// time (process start to exit, median of R runs), the in-process check time, resources and rule evaluations,
// and writes bench-results/iac.json. Goal: < 1 s per environment over all layers.
// There is no peer to compare with here: no Bicep compiler or PSRule runs on our machines (see
// ../shared/notes/bicep.md §3); `az bicep build` and what-if run in .github/workflows/iac.yml instead.
// Usage: node test/bench/iac.mjs [--files N] [--runs R]   (after npm run build)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { privateEndpointBicep } from "../../packages/iac/src/bicep-fixtures.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(repo, "packages", "cli", "dist", "platform.js");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const files = arg("--files", 30);
const runs = arg("--runs", 5);
const GOAL_MS = 1000;
if (!existsSync(cli)) {
  console.error("build the CLI first: npm run build");
  process.exit(2);
}

const ZONE = (name) =>
  `/subscriptions/0/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/${name}`;

/** One generated layer: a compliant cluster with children, a vault, a WAF, and a registry module. */
function layer(i) {
  return `param env string = 'prod'
param k8s string = '1.33'
var suffix = '\${env}${i}'
resource aks 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  name: 'aks-\${suffix}'
  location: 'westeurope'
  sku: { name: 'Base', tier: 'Standard' }
  properties: {
    kubernetesVersion: k8s
    disableLocalAccounts: true
    aadProfile: { managed: true, enableAzureRBAC: true }
    apiServerAccessProfile: { enablePrivateCluster: true, privateDNSZone: '${ZONE("privatelink.westeurope.azmk8s.io")}' }
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
      { name: 'system', mode: 'System', orchestratorVersion: k8s, count: 3, availabilityZones: ['1', '2', '3'] }
      { name: 'general', mode: 'User', orchestratorVersion: k8s, enableAutoScaling: true, minCount: 1, maxCount: 5 }
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
  properties: {
    enableRbacAuthorization: true
    enablePurgeProtection: true
    publicNetworkAccess: 'Disabled'
    networkAcls: { defaultAction: 'Deny' }
  }
}
${privateEndpointBicep("kv", "vault", "privatelink.vaultcore.azure.net")}
resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2025-03-01' = {
  name: 'waf${i}'
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
${privateEndpointBicep("acr", "registry", "privatelink.azurecr.io")}`;

/** Runs the CLI `runs` times; the median wall time, the last summary, and whether it passed. */
function measure(root, args) {
  const times = [];
  let summary;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const p = spawnSync(process.execPath, [cli, "iac", "check", ...args, "--json", "--root", root], {
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
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  return {
    wallMs: Math.round(median),
    minWallMs: Math.round(times[0]),
    checkMs: summary.ms,
    resources: summary.resources,
    rulesEvaluated: summary.rulesEvaluated,
    passed: summary.passed,
    fail: summary.fail,
    unknown: summary.unknown,
    error: summary.error,
    suppressed: summary.suppressed,
    goalMet: median < GOAL_MS,
  };
}

const line = (label, m) =>
  console.log(
    `iac check ${label}: wall ${m.wallMs} ms median of ${runs} (min ${m.minWallMs} ms; in-process ${m.checkMs} ms), ` +
      `${m.resources} resources, ${m.rulesEvaluated} rule evaluations, ${m.fail} failed / ${m.unknown} unknown / ${m.error} errors / ${m.suppressed} suppressed — ` +
      `${m.passed ? "PASSED" : "FAILED"}, goal < ${GOAL_MS} ms: ${m.goalMet ? "met" : "MISSED"}`,
  );

const environments = {};
for (const env of ["dev", "prod", "standby"]) {
  environments[env] = measure(repo, ["infra-bicep", "--env", env]);
  line(`infra-bicep/ layers 0-3 --env ${env}`, environments[env]);
}

const genRoot = mkdtempSync(join(tmpdir(), "iac-bench-"));
let generated;
try {
  for (let i = 0; i < files; i++) {
    const d = join(genRoot, "layers", `layer${i}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "main.bicep"), layer(i));
    writeFileSync(join(d, "registry.bicep"), REGISTRY);
  }
  generated = { layers: files, files: files * 2, ...measure(genRoot, ["layers"]) };
  line(`${files} generated layers (${files * 2} files)`, generated);
} finally {
  rmSync(genRoot, { recursive: true, force: true });
}

const all = Object.values(environments);
mkdirSync(join(repo, "bench-results"), { recursive: true });
writeFileSync(
  join(repo, "bench-results", "iac.json"),
  `${JSON.stringify(
    {
      command: "platform iac check infra-bicep --env <env>",
      runs,
      goalMs: GOAL_MS,
      environments,
      generated,
      peer: null,
      peerNote:
        "no Bicep compiler or PSRule runs offline here; az bicep build and what-if run in .github/workflows/iac.yml",
      goalMet: all.every((m) => m.goalMet) && all.every((m) => m.passed),
    },
    null,
    2,
  )}\n`,
);
