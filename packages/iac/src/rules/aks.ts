// AKS managed clusters: API server, identity, add-ons, upgrades, node pools and audit logs.
import { getProp, isObject, isUnknown } from "../evaluate.ts";
import { type ArmResource, UnknownValue, type Value } from "../types.ts";
import { DNS_ZONE } from "./private-endpoint.ts";
import {
  belongsTo,
  childrenOf,
  deployed,
  type IacRule,
  idTarget,
  isFalseOrAbsent,
  isTrue,
  lastSegment,
  lc,
  oneOf,
  type RuleOutcome,
  sameType,
  show,
  valueAt,
} from "./rule.ts";

const AKS = "Microsoft.ContainerService/managedClusters";

/** The outcome of "a child of this type named `name` exists". */
function requireChild(
  res: ArmResource,
  type: string,
  name: string,
  all: readonly ArmResource[],
): RuleOutcome {
  const { sure, maybe } = childrenOf(res, type, all);
  const named = (r: ArmResource) => lc(lastSegment(getProp(r.body, "name"))) === name.toLowerCase();
  if (sure.some(named)) return { verdict: "pass", detail: "" };
  const possible = maybe.filter((r) => named(r) || !lastSegment(getProp(r.body, "name")));
  if (possible.length > 0)
    return {
      verdict: "unknown",
      detail: `${type.split("/").at(-1)} '${name}' at ${possible[0]!.file}:${possible[0]!.line} may belong to it (names or conditions not known)`,
    };
  return { verdict: "fail", detail: `no ${type.split("/").at(-1)} named '${name}' is declared for it` };
}

interface Pool {
  value: Value;
  resource: ArmResource;
  path: readonly string[];
}

/** Node pools of a cluster: inline `agentPoolProfiles` and `agentPools` child resources; unknown when not listable. */
function poolsOf(res: ArmResource, all: readonly ArmResource[]): Pool[] | UnknownValue {
  const pools: Pool[] = [];
  const inline = valueAt(res, "properties", "agentPoolProfiles");
  if (isUnknown(inline)) return inline;
  if (Array.isArray(inline))
    inline.forEach((p, i) => {
      pools.push({ value: p, resource: res, path: ["properties", "agentPoolProfiles", String(i)] });
    });
  const { sure, maybe } = childrenOf(res, `${AKS}/agentPools`, all);
  for (const r of [...sure, ...maybe])
    pools.push({
      value: {
        ...(isObject(getProp(r.body, "properties"))
          ? (getProp(r.body, "properties") as { [k: string]: Value })
          : {}),
        name: getProp(r.body, "name") ?? null,
      },
      resource: r,
      path: ["properties"],
    });
  return pools;
}

const poolName = (p: Pool): string => {
  const n = getProp(p.value, "name");
  return typeof n === "string" ? n : `#${p.path.at(-1)}`;
};
/** Pool path relative to its resource: inline pools carry the index, child resources use `properties`. */
const poolPath = (p: Pool, key: string): readonly string[] => [...p.path, key];
const poolMode = (p: Pool): Value | undefined => getProp(p.value, "mode");

/** Pools of one mode (`System`/`User`, absent mode counts as User); unknown if a pool's mode is not known. */
function poolsWithMode(res: ArmResource, all: readonly ArmResource[], mode: "system" | "user") {
  const pools = poolsOf(res, all);
  if (pools instanceof UnknownValue) return pools;
  const out: Pool[] = [];
  for (const p of pools) {
    const m = poolMode(p);
    if (isUnknown(p.value) || isUnknown(m))
      return new UnknownValue(`node pool ${poolName(p)}'s mode is not known`);
    if ((lc(m) ?? "user") === mode) out.push(p);
  }
  return out;
}

function perPool(
  res: ArmResource,
  all: readonly ArmResource[],
  mode: "system" | "user",
  check: (p: Pool) => RuleOutcome,
  none: RuleOutcome | undefined,
): RuleOutcome[] {
  const pools = poolsWithMode(res, all, mode);
  if (pools instanceof UnknownValue) return [{ verdict: "unknown", detail: pools.reason }];
  if (pools.length === 0) return none ? [none] : [];
  return pools.map(check);
}

/** Enabled log categories (lower-cased) of the diagnostic settings scoped to `res`; `allLogs` covers all. */
function diagnosticCategories(res: ArmResource, all: readonly ArmResource[]) {
  const sure = new Set<string>();
  const maybe: ArmResource[] = [];
  let unknownReason: string | undefined;
  for (const r of all) {
    if (!deployed(r) || r.type.toLowerCase() !== "microsoft.insights/diagnosticsettings") continue;
    const b = belongsTo(r.scope, r, res);
    if (b === false) continue;
    if (b === "unknown" || r.condition !== true) {
      maybe.push(r);
      continue;
    }
    const logs = getProp(getProp(r.body, "properties"), "logs");
    if (!Array.isArray(logs)) {
      if (isUnknown(logs)) unknownReason = logs.reason;
      continue;
    }
    for (const l of logs) {
      const enabled = getProp(l, "enabled");
      const cat = lc(getProp(l, "category")) ?? lc(getProp(l, "categoryGroup"));
      if (isUnknown(enabled) || isUnknown(l)) unknownReason = "a log entry is not known";
      else if (enabled === true && cat) sure.add(cat);
    }
  }
  return { sure, maybe, unknownReason };
}

/** `major.minor` of a Kubernetes version string (`1.33`, `1.33.2`), or undefined. */
function minorVersion(v: Value | undefined): [number, number] | undefined {
  const m = typeof v === "string" ? /^v?(\d+)\.(\d+)(\.\d+)?$/.exec(v.trim()) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** AKS: node pools keep the control plane's major version, at most 2 minor versions behind, never ahead. */
const POOL_MINOR_SKEW = 2;

/** Rules on Microsoft.ContainerService/managedClusters, in evaluation order. */
export const AKS_RULES: readonly IacRule[] = [
  {
    id: "Azure.AKS.PrivateCluster",
    severity: "error",
    type: AKS,
    title: "AKS API server is private",
    fix: "set properties.apiServerAccessProfile.enablePrivateCluster: true (instead of authorized IP ranges)",
    path: ["properties", "apiServerAccessProfile", "enablePrivateCluster"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.LocalAccounts",
    severity: "error",
    type: AKS,
    title: "AKS local accounts are disabled",
    fix: "set properties.disableLocalAccounts: true",
    path: ["properties", "disableLocalAccounts"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.AzureRBAC",
    severity: "error",
    type: AKS,
    title: "AKS uses Azure RBAC for Kubernetes authorization",
    fix: "set properties.aadProfile.enableAzureRBAC: true (with aadProfile.managed: true)",
    path: ["properties", "aadProfile", "enableAzureRBAC"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.NetworkPolicy",
    severity: "error",
    type: AKS,
    title: "AKS enforces network policies",
    fix: "set properties.networkProfile.networkPolicy: 'cilium' (with networkDataplane: 'cilium'); 'azure' and 'calico' also pass",
    path: ["properties", "networkProfile", "networkPolicy"],
    ok: oneOf("cilium", "azure", "calico"),
  },
  {
    id: "Platform.AKS.OIDCIssuer",
    severity: "error",
    type: AKS,
    title: "AKS OIDC issuer is enabled",
    fix: "set properties.oidcIssuerProfile.enabled: true",
    path: ["properties", "oidcIssuerProfile", "enabled"],
    ok: isTrue,
  },
  {
    id: "Platform.AKS.WorkloadIdentity",
    severity: "error",
    type: AKS,
    title: "AKS workload identity is enabled",
    fix: "set properties.securityProfile.workloadIdentity.enabled: true",
    path: ["properties", "securityProfile", "workloadIdentity", "enabled"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.SecretStore",
    severity: "error",
    type: AKS,
    title: "AKS Key Vault secrets provider add-on is enabled",
    fix: "set properties.addonProfiles.azureKeyvaultSecretsProvider.enabled: true",
    path: ["properties", "addonProfiles", "azureKeyvaultSecretsProvider", "enabled"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.SecretStoreRotation",
    severity: "error",
    type: AKS,
    title: "AKS Key Vault secrets provider rotates secrets",
    fix: "set properties.addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation: 'true' (a string)",
    path: ["properties", "addonProfiles", "azureKeyvaultSecretsProvider", "config", "enableSecretRotation"],
    ok: oneOf("true"),
  },
  {
    id: "Azure.AKS.AutoUpgrade",
    severity: "error",
    type: AKS,
    title: "AKS auto-upgrade channel is set",
    fix: "set properties.autoUpgradeProfile.upgradeChannel: 'stable' (or 'patch', 'rapid', 'node-image'; not 'none')",
    path: ["properties", "autoUpgradeProfile", "upgradeChannel"],
    ok: oneOf("stable", "patch", "rapid", "node-image"),
  },
  {
    id: "Azure.AKS.MaintenanceWindow",
    severity: "error",
    type: AKS,
    title: "AKS has planned maintenance for cluster and node OS upgrades",
    fix: "declare maintenanceConfigurations children 'aksManagedAutoUpgradeSchedule' and 'aksManagedNodeOSUpgradeSchedule' (type Microsoft.ContainerService/managedClusters/maintenanceConfigurations) with a maintenanceWindow",
    path: [],
    evaluate: (res, all) =>
      ["aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"].map((n) =>
        requireChild(res, `${AKS}/maintenanceConfigurations`, n, all),
      ),
  },
  {
    id: "Azure.AKS.NodeAutoUpgrade",
    severity: "error",
    type: AKS,
    title: "AKS node OS images upgrade automatically",
    fix: "set properties.autoUpgradeProfile.nodeOSUpgradeChannel: 'NodeImage' (or 'SecurityPatch')",
    path: ["properties", "autoUpgradeProfile", "nodeOSUpgradeChannel"],
    ok: oneOf("NodeImage", "SecurityPatch"),
    absent:
      "not set: AKS gives a new cluster 'NodeImage', an existing one keeps its channel (possibly 'None' or 'Unmanaged')",
  },
  {
    id: "Azure.AKS.MinNodeCount",
    severity: "error",
    type: AKS,
    title: "AKS system node pools have at least 3 nodes",
    fix: "set count: 3 (or minCount: 3 with enableAutoScaling) on the system pool (mode: 'System')",
    path: ["properties", "agentPoolProfiles"],
    evaluate: (res, all) =>
      perPool(
        res,
        all,
        "system",
        (p) => {
          const auto = getProp(p.value, "enableAutoScaling");
          if (isUnknown(auto))
            return { verdict: "unknown", detail: `pool ${poolName(p)}: enableAutoScaling: ${auto.reason}` };
          const key = auto === true ? "minCount" : "count";
          const n = getProp(p.value, key);
          const at = { resource: p.resource, path: poolPath(p, key) };
          if (isUnknown(n))
            return { verdict: "unknown", detail: `pool ${poolName(p)}: ${key}: ${n.reason}`, at };
          return typeof n === "number" && n >= 3
            ? { verdict: "pass", detail: "" }
            : { verdict: "fail", detail: `system pool ${poolName(p)} has ${key} ${show(n)}`, at };
        },
        { verdict: "fail", detail: "no node pool has mode: 'System'" },
      ),
  },
  {
    id: "Azure.AKS.AvailabilityZone",
    severity: "error",
    type: AKS,
    title: "AKS system node pools span 3 availability zones",
    fix: "set availabilityZones: ['1', '2', '3'] on the system pool",
    path: ["properties", "agentPoolProfiles"],
    evaluate: (res, all) =>
      perPool(
        res,
        all,
        "system",
        (p) => {
          const z = getProp(p.value, "availabilityZones");
          const at = { resource: p.resource, path: poolPath(p, "availabilityZones") };
          if (isUnknown(z) || (Array.isArray(z) && z.some(isUnknown)))
            return { verdict: "unknown", detail: `pool ${poolName(p)}: availabilityZones not known`, at };
          const n = Array.isArray(z) ? new Set(z.map(String)).size : 0;
          return n >= 3
            ? { verdict: "pass", detail: "" }
            : { verdict: "fail", detail: `system pool ${poolName(p)} has availabilityZones ${show(z)}`, at };
        },
        undefined,
      ),
  },
  {
    id: "Azure.AKS.AutoScaling",
    severity: "error",
    type: AKS,
    title: "AKS user node pools autoscale",
    fix: "set enableAutoScaling: true with minCount and maxCount on every user pool",
    path: ["properties", "agentPoolProfiles"],
    evaluate: (res, all) =>
      perPool(
        res,
        all,
        "user",
        (p) => {
          const v = getProp(p.value, "enableAutoScaling");
          const at = { resource: p.resource, path: poolPath(p, "enableAutoScaling") };
          if (isUnknown(v)) return { verdict: "unknown", detail: `pool ${poolName(p)}: ${v.reason}`, at };
          return v === true
            ? { verdict: "pass", detail: "" }
            : { verdict: "fail", detail: `user pool ${poolName(p)} has enableAutoScaling ${show(v)}`, at };
        },
        undefined,
      ),
  },
  {
    id: "Azure.AKS.AuditLogs",
    severity: "error",
    type: AKS,
    title: "AKS sends audit logs (kube-audit-admin and guard) to Log Analytics",
    fix: "declare a Microsoft.Insights/diagnosticSettings with scope: <cluster> and logs [{ category: 'kube-audit-admin', enabled: true }, { category: 'guard', enabled: true }]",
    path: [],
    evaluate: (res, all) => {
      const { sure, maybe, unknownReason } = diagnosticCategories(res, all);
      const has = (c: string) => sure.has(c) || sure.has("alllogs");
      const missing = [
        has("kube-audit-admin") || has("kube-audit") ? "" : "kube-audit-admin",
        has("guard") ? "" : "guard",
      ].filter(Boolean);
      if (missing.length === 0) return [{ verdict: "pass", detail: "" }];
      if (maybe.length > 0 || unknownReason)
        return [
          {
            verdict: "unknown",
            detail:
              unknownReason ??
              `diagnostic settings at ${maybe[0]!.file}:${maybe[0]!.line} may apply (scope or condition not known)`,
          },
        ];
      return [
        { verdict: "fail", detail: `no diagnostic setting on the cluster enables ${missing.join(" and ")}` },
      ];
    },
  },
  {
    id: "Azure.AKS.DefenderProfile",
    severity: "error",
    type: AKS,
    title: "AKS Defender for Containers security monitoring is enabled",
    fix: "set properties.securityProfile.defender.securityMonitoring.enabled: true (with logAnalyticsWorkspaceResourceId)",
    path: ["properties", "securityProfile", "defender", "securityMonitoring", "enabled"],
    ok: isTrue,
  },
  {
    id: "Platform.AKS.ImageCleaner",
    severity: "error",
    type: AKS,
    title: "AKS image cleaner removes unused, vulnerable images",
    fix: "set properties.securityProfile.imageCleaner: { enabled: true, intervalHours: 168 }",
    path: ["properties", "securityProfile", "imageCleaner", "enabled"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.UptimeSLA",
    severity: "error",
    type: AKS,
    title: "AKS uses the Standard tier (uptime SLA)",
    fix: "set sku: { name: 'Base', tier: 'Standard' }",
    path: ["sku", "tier"],
    ok: oneOf("Standard", "Premium"),
  },
  {
    id: "Platform.AKS.EgressFirewall",
    severity: "error",
    type: AKS,
    title: "AKS egress goes through the hub firewall",
    fix: "set properties.networkProfile.outboundType: 'userDefinedRouting' with a route table sending 0.0.0.0/0 to the firewall",
    path: ["properties", "networkProfile", "outboundType"],
    ok: oneOf("userDefinedRouting"),
  },
  {
    id: "Azure.AKS.HttpAppRouting",
    severity: "error",
    type: AKS,
    title: "AKS HTTP application routing add-on is disabled",
    fix: "remove addonProfiles.httpApplicationRouting or set its enabled: false (use the Istio internal ingress gateway)",
    path: ["properties", "addonProfiles", "httpApplicationRouting", "enabled"],
    ok: isFalseOrAbsent,
  },
  {
    id: "Azure.AKS.PoolVersion",
    severity: "error",
    type: AKS,
    title: "AKS node pools run the control plane's Kubernetes version",
    fix: "set orchestratorVersion of every pool to the cluster's kubernetesVersion (or omit it); a pool may trail by at most 2 minor versions during a rolling upgrade and may never be ahead",
    path: ["properties", "kubernetesVersion"],
    evaluate: (res, all) => {
      const pools = poolsOf(res, all);
      if (pools instanceof UnknownValue) return [{ verdict: "unknown", detail: pools.reason }];
      const cluster = valueAt(res, "properties", "kubernetesVersion");
      return pools.map((p): RuleOutcome => {
        const v = isUnknown(p.value) ? p.value : getProp(p.value, "orchestratorVersion");
        const at = { resource: p.resource, path: poolPath(p, "orchestratorVersion") };
        // Absent, or the very value the cluster uses (the same parameter, known or not): aligned.
        if (v === undefined || v === null || v === cluster) return { verdict: "pass", detail: "" };
        if (isUnknown(v)) return { verdict: "unknown", detail: `pool ${poolName(p)}: ${v.reason}`, at };
        if (isUnknown(cluster))
          return { verdict: "unknown", detail: `kubernetesVersion: ${cluster.reason}`, at };
        const pv = minorVersion(v);
        const cv = minorVersion(cluster);
        if (!pv || !cv)
          return {
            verdict: "fail",
            detail: `pool ${poolName(p)} has orchestratorVersion ${show(v)} and the cluster ${show(cluster)} (not major.minor[.patch])`,
            at,
          };
        const behind = cv[1] - pv[1];
        const ok = pv[0] === cv[0] && behind >= 0 && behind <= POOL_MINOR_SKEW;
        // Same minor with another patch (1.33 vs 1.33.2) is aligned; AKS picks the latest patch for `1.33`.
        if (ok) return { verdict: "pass", detail: "" };
        return {
          verdict: "fail",
          detail: `pool ${poolName(p)} runs ${show(v)} with the control plane at ${show(cluster)} (${behind < 0 ? "ahead of it" : `${behind} minor versions behind`})`,
          at,
        };
      });
    },
  },
  {
    id: "Platform.AKS.PrivateDNSZone",
    severity: "error",
    type: AKS,
    title: "AKS private API server is registered in the hub's private DNS zone",
    fix: "set properties.apiServerAccessProfile.privateDNSZone to the resource id of the privatelink.<region>.azmk8s.io zone linked to hub and spokes (not 'none' or 'system')",
    path: ["properties", "apiServerAccessProfile", "privateDNSZone"],
    evaluate: (res) => {
      // A public API server has no private zone to register in: Azure.AKS.PrivateCluster reports that cluster.
      const isPrivate = valueAt(res, "properties", "apiServerAccessProfile", "enablePrivateCluster");
      if (isPrivate === false || isPrivate === null || isPrivate === undefined)
        return [{ verdict: "pass", detail: "" }];
      const v = valueAt(res, "properties", "apiServerAccessProfile", "privateDNSZone");
      const target = idTarget(v);
      if (target && sameType(target.type, DNS_ZONE)) {
        if (isUnknown(target.name)) return [{ verdict: "unknown", detail: target.name.reason }];
        return typeof target.name === "string" &&
          /(^|\.)privatelink\.[a-z0-9]+\.azmk8s\.io$/i.test(target.name)
          ? [{ verdict: "pass", detail: "" }]
          : [{ verdict: "fail", detail: `privateDNSZone points at zone ${show(target.name)}` }];
      }
      if (isUnknown(v)) return [{ verdict: "unknown", detail: v.reason }];
      return [{ verdict: "fail", detail: `privateDNSZone is ${show(v)}` }];
    },
  },
];
