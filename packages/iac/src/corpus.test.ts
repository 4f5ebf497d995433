// `platform iac check` on public Bicep nobody here wrote (test/fixtures/bicep-corpus, pinned and licensed in its
// README): no parse error on files the Bicep compiler accepts, and every FAIL below was checked by hand against
// the source and its parameters. A FAIL that appears or disappears fails this test until it is checked again.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkBicep } from "./check.ts";

const CORPUS = join(import.meta.dirname, "..", "..", "..", "test", "fixtures", "bicep-corpus");
const AVM = "avm-managed-cluster/avm/res/container-service/managed-cluster";

/** A FAIL and its hand-checked verdict: `true` when the deployed template really breaks the control. */
interface Checked {
  rule: string;
  at: string;
  true: boolean;
  why: string;
}
const T = (rule: string, at: string, why: string): Checked => ({ rule, at, true: true, why });

const AKSC = "aks-construction/bicep/main.bicep";
const AKSC_KV = "aks-construction/bicep/keyvault.bicep";
const STAMP = "aks-baseline/workload-team/cluster-stamp.bicep";

/** AKS-Construction FAILs shared by its three parameter sets (defaults the sets do not override). */
const aksConstructionCommon = [
  T("Azure.ACR.GeoReplica", `${AKSC}:413`, "no registries/replications anywhere in the template"),
  T("Platform.AKS.OIDCIssuer", `${AKSC}:1309`, "oidcIssuer defaults to false and no set overrides it"),
  T("Platform.AKS.WorkloadIdentity", `${AKSC}:1313`, "workloadIdentity defaults to false"),
  T("Azure.AKS.AutoUpgrade", `${AKSC}:1305`, "upgradeChannel defaults to (or is set to) 'none'"),
  T(
    "Azure.AKS.MaintenanceWindow",
    `${AKSC}:1340`,
    "no aksManagedAutoUpgradeSchedule maintenance configuration",
  ),
  T(
    "Azure.AKS.MaintenanceWindow",
    `${AKSC}:1340`,
    "no aksManagedNodeOSUpgradeSchedule maintenance configuration",
  ),
  T(
    "Azure.AKS.DefenderProfile",
    `${AKSC}:1343`,
    "defenderForContainers defaults to false: the defender profile is not unioned in",
  ),
  T("Platform.AKS.ImageCleaner", `${AKSC}:1343`, "securityProfile has no imageCleaner (off by default)"),
  T("Azure.AKS.UptimeSLA", `${AKSC}:1359`, "AksPaidSkuForSLA defaults to false: sku.tier 'Free'"),
];

const SETS: { name: string; paths: string[]; parameters?: string; fails: Checked[] }[] = [
  {
    name: "mspnp/aks-baseline with azuredeploy.parameters.prod.bicepparam",
    paths: ["aks-baseline"],
    parameters: "aks-baseline/workload-team/azuredeploy.parameters.prod.bicepparam",
    fails: [
      T(
        "Azure.KeyVault.PurgeProtect",
        `${STAMP}:503`,
        "vault kv-<cluster> sets no enablePurgeProtection (off)",
      ),
      T(
        "Platform.KeyVault.PublicAccess",
        `${STAMP}:503`,
        "no publicNetworkAccess: the default 'Enabled' (the firewall denies, public access is still on)",
      ),
      T(
        "Azure.AKS.SecretStoreRotation",
        `${STAMP}:849`,
        "azureKeyvaultSecretsProvider.config.enableSecretRotation: 'false'",
      ),
      T("Azure.AKS.AutoUpgrade", `${STAMP}:906`, "autoUpgradeProfile.upgradeChannel: 'none'"),
      T(
        "Azure.AKS.MaintenanceWindow",
        `${STAMP}:739`,
        "only aksManagedNodeOSUpgradeSchedule is declared, no aksManagedAutoUpgradeSchedule",
      ),
    ],
  },
  {
    name: "Azure/AKS-Construction with AksDeploy-Basic.parameters.json",
    paths: [AKSC],
    parameters: "aks-construction/parameters/AksDeploy-Basic.parameters.json",
    fails: [
      ...aksConstructionCommon,
      T("Azure.ACR.Firewall", `${AKSC}:431`, "privateLinks defaults to false: publicNetworkAccess 'Enabled'"),
      T("Azure.ACR.MinSku", `${AKSC}:418`, "registries_sku: 'Standard'"),
      T("Platform.ACR.ZoneRedundancy", `${AKSC}:432`, "Standard SKU and no zones: zoneRedundancy 'Disabled'"),
      T(
        "Platform.ACR.PrivateEndpoint",
        `${AKSC}:413`,
        "privateLinks false: network.bicep declares no ACR endpoint",
      ),
      T("Azure.AKS.PrivateCluster", `${AKSC}:1282`, "enablePrivateCluster defaults to false"),
      T("Azure.AKS.NetworkPolicy", `${AKSC}:1343`, "networkPolicy defaults to '' (none)"),
      T("Azure.AKS.SecretStore", `${AKSC}:1202`, "keyVaultAksCSI defaults to false"),
      T("Azure.AKS.MinNodeCount", `${AKSC}:1343`, "SystemPoolType 'CostOptimised': count 1, minCount 1"),
      T("Azure.AKS.AvailabilityZone", `${AKSC}:1343`, "CostOptimised preset: availabilityZones []"),
      T(
        "Azure.AKS.AutoScaling",
        "aks-construction/bicep/aksagentpool.bicep:73",
        "agentCountMax 0 is not above agentCount 1: enableAutoScaling false on userpool01",
      ),
      T(
        "Platform.AKS.EgressFirewall",
        `${AKSC}:1343`,
        "aksOutboundTrafficType 'natGateway' without custom_vnet: outboundType 'managedNATGateway', not the firewall",
      ),
    ],
  },
  {
    name: "Azure/AKS-Construction with AksDeploy-ByoVnet.parameters.json",
    paths: [AKSC],
    parameters: "aks-construction/parameters/AksDeploy-ByoVnet.parameters.json",
    fails: [
      ...aksConstructionCommon,
      T("Azure.ACR.Firewall", `${AKSC}:431`, "privateLinks false: publicNetworkAccess 'Enabled'"),
      T("Platform.ACR.PrivateEndpoint", `${AKSC}:413`, "privateLinks false: no ACR endpoint"),
      T("Azure.AKS.PrivateCluster", `${AKSC}:1282`, "enablePrivateCluster defaults to false"),
      T(
        "Azure.AKS.LocalAccounts",
        `${AKSC}:1343`,
        "AksDisableLocalAccounts defaults to false (this set does not set it)",
      ),
      T("Platform.AKS.EgressFirewall", `${AKSC}:1301`, "aksOutboundTrafficType defaults to 'loadBalancer'"),
      T("Azure.KeyVault.PurgeProtect", `${AKSC_KV}:54`, "keyVaultPurgeProtection: false gives null (off)"),
      T(
        "Platform.KeyVault.PublicAccess",
        `${AKSC_KV}:40`,
        "privateLinks false: publicNetworkAccess 'enabled'",
      ),
      T("Azure.KeyVault.SoftDelete", `${AKSC_KV}:53`, "keyVaultSoftDelete: false"),
      T("Platform.KeyVault.PrivateEndpoint", `${AKSC_KV}:30`, "privateLinks false: no vault endpoint"),
      T(
        "Azure.KeyVault.Firewall",
        `${AKSC_KV}:42`,
        "networkAcls {} (default Allow) with public network access on",
      ),
    ],
  },
  {
    name: "Azure/AKS-Construction with AksDeploy-Private.parameters.json",
    paths: [AKSC],
    parameters: "aks-construction/parameters/AksDeploy-Private.parameters.json",
    fails: [
      ...aksConstructionCommon,
      T(
        "Platform.ACR.ZoneRedundancy",
        `${AKSC}:432`,
        "availabilityZones default []: zoneRedundancy 'Disabled'",
      ),
      T("Azure.AKS.LocalAccounts", `${AKSC}:1343`, "aksDisableLocalAccounts: false"),
      T(
        "Azure.AKS.AvailabilityZone",
        `${AKSC}:1343`,
        "JustUseSystemPool: the base pool carries no availabilityZones",
      ),
      T(
        "Platform.AKS.EgressFirewall",
        `${AKSC}:1301`,
        "aksOutboundTrafficType: 'loadBalancer' (the firewall is deployed, egress does not use it)",
      ),
      T(
        "Platform.AKS.PrivateDNSZone",
        `${AKSC}:1283`,
        "privateClusterDnsMethod defaults to 'system': AKS's own zone, not the hub's",
      ),
    ],
  },
  {
    name: "Azure Verified Module avm/res/container-service/managed-cluster with its defaults",
    paths: [`${AVM}/main.bicep`],
    fails: [
      T("Azure.AKS.PrivateCluster", `${AVM}/main.bicep:623`, "apiServerAccessProfile is null by default"),
      T("Azure.AKS.AzureRBAC", `${AVM}/main.bicep:620`, "aadProfile is null by default"),
      T(
        "Azure.AKS.NetworkPolicy",
        `${AVM}/main.bicep:585`,
        "networkPolicy and networkDataplane null by default",
      ),
      T("Platform.AKS.OIDCIssuer", `${AVM}/main.bicep:563`, "enableOidcIssuerProfile defaults to false"),
      T("Platform.AKS.WorkloadIdentity", `${AVM}/main.bicep:626`, "securityProfile is null by default"),
      T("Azure.AKS.SecretStore", `${AVM}/main.bicep:555`, "enableKeyvaultSecretsProvider defaults to false"),
      T("Azure.AKS.SecretStoreRotation", `${AVM}/main.bicep:556`, "provider off: its config is null"),
      T("Azure.AKS.MaintenanceWindow", `${AVM}/main.bicep:409`, "maintenanceConfigurations null: none"),
      T("Azure.AKS.MaintenanceWindow", `${AVM}/main.bicep:409`, "maintenanceConfigurations null: none"),
      T("Azure.AKS.AuditLogs", `${AVM}/main.bicep:409`, "diagnosticSettings null: no diagnostic setting"),
      T("Azure.AKS.DefenderProfile", `${AVM}/main.bicep:626`, "securityProfile is null by default"),
      T("Platform.AKS.ImageCleaner", `${AVM}/main.bicep:626`, "securityProfile is null by default"),
      T("Platform.AKS.EgressFirewall", `${AVM}/main.bicep:589`, "outboundType defaults to 'loadBalancer'"),
    ],
  },
  {
    name: "Azure Verified Module managed-cluster, waf-aligned e2e test",
    paths: [`${AVM}/tests/e2e/waf-aligned/main.test.bicep`],
    fails: [
      T("Platform.AKS.OIDCIssuer", `${AVM}/main.bicep:563`, "the test does not set enableOidcIssuerProfile"),
      T(
        "Platform.AKS.WorkloadIdentity",
        `${AVM}/main.bicep:626`,
        "the test's securityProfile has defender only",
      ),
      T("Azure.AKS.SecretStore", `${AVM}/main.bicep:555`, "enableKeyvaultSecretsProvider not set (false)"),
      T("Azure.AKS.SecretStoreRotation", `${AVM}/main.bicep:556`, "provider off: its config is null"),
      T(
        "Azure.AKS.NodeAutoUpgrade",
        `${AVM}/main.bicep:622`,
        "the test sets nodeOSUpgradeChannel: 'Unmanaged'",
      ),
      T(
        "Azure.AKS.AvailabilityZone",
        `${AVM}/main.bicep:424`,
        "systempool availabilityZones: [3] (one zone)",
      ),
      T(
        "Azure.AKS.AuditLogs",
        `${AVM}/main.bicep:409`,
        "customSetting logs kube-apiserver, controller-manager, scheduler, autoscaler: no kube-audit-admin, no guard",
      ),
      T(
        "Platform.AKS.ImageCleaner",
        `${AVM}/main.bicep:626`,
        "the test's securityProfile has no imageCleaner",
      ),
      T("Platform.AKS.EgressFirewall", `${AVM}/main.bicep:589`, "outboundType not set: 'loadBalancer'"),
    ],
  },
];

describe("iac check on the public Bicep corpus", () => {
  it.each(SETS)("$name: no parse error, and exactly the hand-checked FAILs, all true", async (set) => {
    const r = await checkBicep(set.paths, {
      root: CORPUS,
      ...(set.parameters ? { parameters: set.parameters } : {}),
    });
    expect(r.findings.filter((f) => f.verdict === "error")).toEqual([]);
    expect(r.resources.length).toBeGreaterThan(0);
    const got = r.findings
      .filter((f) => f.verdict === "fail")
      .map((f) => `${f.rule} ${f.file}:${f.line}`)
      .sort();
    expect(got).toEqual(set.fails.map((c) => `${c.rule} ${c.at}`).sort());
    expect(set.fails.filter((c) => !c.true)).toEqual([]);
  });
});
