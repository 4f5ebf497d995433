import { getProp, isObject, isUnknown } from "./evaluate.ts";
import {
  type ArmResource,
  type IacFinding,
  type ResourceRef,
  type Severity,
  UnknownValue,
  type Value,
} from "./types.ts";

/** The outcome of a rule that looks beyond one property: `at` is the resource and path to point at. */
export interface RuleOutcome {
  verdict: "pass" | "fail" | "unknown";
  detail: string;
  at?: { resource: ArmResource; path: readonly string[] };
}

/**
 * A control on one ARM resource type: the property at `path` must satisfy `ok`, or, for controls that
 * need other resources (child resources, diagnostic settings on it, node pools), `evaluate` decides.
 */
export interface IacRule {
  id: string;
  severity: Severity;
  /** ARM resource type, compared case-insensitively. */
  type: string;
  title: string;
  /** How to fix it, in Bicep terms. */
  fix: string;
  /** Path relative to the resource body, e.g. ["properties", "disableLocalAccounts"]. */
  path: readonly string[];
  /** Whether the known value passes; `undefined` means the property is absent. */
  ok?(value: Value | undefined): boolean;
  /**
   * Set when an absent property proves nothing (the service picks a default that depends on the cluster's
   * history or version): absent is then `unknown`, with this reason, rather than judged by `ok`.
   */
  absent?: string;
  /** Decides the rule from the resource and every resource checked with it (outcomes per sub-object). */
  evaluate?(res: ArmResource, all: readonly ArmResource[]): RuleOutcome[];
}

const AKS = "Microsoft.ContainerService/managedClusters";
const ACR = "Microsoft.ContainerRegistry/registries";
const KV = "Microsoft.KeyVault/vaults";
const FD_WAF = "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies";
const PE = "Microsoft.Network/privateEndpoints";
const DNS_ZONE = "Microsoft.Network/privateDnsZones";

const isTrue = (v: Value | undefined): boolean => v === true;
/** Absent counts as false: the ARM default is the secure one. */
const isFalseOrAbsent = (v: Value | undefined): boolean => v === undefined || v === null || v === false;
const oneOf =
  (...allowed: string[]) =>
  (v: Value | undefined): boolean =>
    typeof v === "string" && allowed.some((a) => a.toLowerCase() === v.toLowerCase());

/**
 * The value at a property path of a resource body (case-insensitive keys), undefined where absent; the
 * unknown itself where the path runs through a value not known statically (never "absent" for what is unseen).
 */
const valueAt = (res: ArmResource, ...path: string[]): Value | undefined =>
  path.reduce<Value | undefined>((v, key) => (isUnknown(v) ? v : getProp(v, key)), res.body);

const lc = (v: Value | undefined): string | undefined =>
  typeof v === "string" ? v.toLowerCase() : undefined;
const deployed = (r: ArmResource): boolean => !r.existing && r.condition !== false;
const lastSegment = (v: Value | undefined): string | undefined =>
  typeof v === "string" ? v.split("/").at(-1) : undefined;

/**
 * Whether `r` belongs to `target`: linked in the same file (parent/scope), an `existing` stand-in with the
 * same name (modules), or a child whose full name starts with the target's name. `unknown` when names are not known.
 */
function belongsTo(link: ArmResource | undefined, r: ArmResource, target: ArmResource): boolean | "unknown" {
  if (link === target) return true;
  if (link && link.type.toLowerCase() !== target.type.toLowerCase()) return false;
  const tName = lc(target.name);
  if (link) {
    const lName = lc(link.name);
    return tName && lName ? tName === lName : "unknown";
  }
  const full = lc(r.name);
  if (!tName || !full) return "unknown";
  return full.startsWith(`${tName}/`);
}

/** Child resources of `type` (full ARM type) belonging to `target`, split into sure and possible matches. */
function childrenOf(target: ArmResource, type: string, all: readonly ArmResource[]) {
  const sure: ArmResource[] = [];
  const maybe: ArmResource[] = [];
  for (const r of all) {
    if (!deployed(r) || r.type.toLowerCase() !== type.toLowerCase()) continue;
    const b = belongsTo(r.parent, r, target);
    if (b === true) (r.condition === true ? sure : maybe).push(r);
    else if (b === "unknown") maybe.push(r);
  }
  return { sure, maybe };
}

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

/**
 * The resource a resource id points at: parsed from a literal id (`/subscriptions/…/providers/NS/type/name`),
 * or carried by an unknown id (`sym.id`, `resourceId(…)`); undefined when nothing is known.
 */
export function idTarget(v: Value | undefined): ResourceRef | undefined {
  if (isUnknown(v)) return v.ref;
  if (typeof v !== "string") return undefined;
  const m = /\/providers\/([^/]+)\/(.+)$/i.exec(v.replace(/\/+$/, ""));
  if (!m) return undefined;
  const segs = m[2]!.split("/");
  if (segs.length % 2 !== 0) return undefined;
  const types = segs.filter((_, i) => i % 2 === 0);
  const names = segs.filter((_, i) => i % 2 === 1);
  return { type: `${m[1]}/${types.join("/")}`, name: names.join("/") };
}

const sameType = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Private endpoints (deployed) whose connection targets `res` with `groupId`; `maybe` when the target is not known. */
function privateEndpointsOf(res: ArmResource, groupId: string, all: readonly ArmResource[]) {
  const sure: ArmResource[] = [];
  const maybe: ArmResource[] = [];
  const resName = lc(res.name);
  for (const pe of all) {
    if (!deployed(pe) || !sameType(pe.type, PE)) continue;
    const props = getProp(pe.body, "properties");
    const conns = [
      getProp(props, "privateLinkServiceConnections"),
      getProp(props, "manualPrivateLinkServiceConnections"),
    ];
    let match: boolean | "unknown" = false;
    for (const list of conns) {
      if (isUnknown(list)) match = "unknown";
      if (!Array.isArray(list)) continue;
      for (const c of list) {
        const cp = getProp(c, "properties");
        const target = idTarget(getProp(cp, "privateLinkServiceId"));
        const groups = getProp(cp, "groupIds");
        const groupOk = Array.isArray(groups)
          ? groups.some((g) => lc(g) === groupId.toLowerCase())
            ? true
            : groups.some(isUnknown)
              ? "unknown"
              : false
          : "unknown";
        if (!target) {
          if (match === false) match = "unknown";
          continue;
        }
        if (!sameType(target.type, res.type) || groupOk === false) continue;
        const tName = lc(target.name);
        // `privateLinkServiceId: kv.id` names the declaration itself: no need to know its name.
        const bySymbol =
          target.symbol &&
          !res.parent &&
          target.symbol.file === res.file &&
          target.symbol.name === res.symbol;
        const ok = bySymbol ? true : !tName || !resName ? "unknown" : tName === resName;
        if (ok === true && groupOk === true) match = true;
        else if (ok !== false && match === false) match = "unknown";
      }
    }
    if (match === true && pe.condition === true) sure.push(pe);
    else if (match !== false) maybe.push(pe);
  }
  return { sure, maybe };
}

/** Whether a private endpoint has a DNS zone group registering it in a zone whose name matches `zone`. */
function zoneGroupOutcome(pe: ArmResource, zone: RegExp, zoneLabel: string, all: readonly ArmResource[]) {
  const { sure, maybe } = childrenOf(pe, `${PE}/privateDnsZoneGroups`, all);
  let unknown: string | undefined;
  for (const g of [...sure, ...maybe]) {
    const configs = getProp(getProp(g.body, "properties"), "privateDnsZoneConfigs");
    if (!Array.isArray(configs)) {
      unknown ??= `zone group at ${g.file}:${g.line} lists no known privateDnsZoneConfigs`;
      continue;
    }
    for (const c of configs) {
      const target = idTarget(getProp(getProp(c, "properties"), "privateDnsZoneId"));
      const name = target && sameType(target.type, DNS_ZONE) ? target.name : undefined;
      if (typeof name === "string" && zone.test(name)) {
        if (sure.includes(g)) return { verdict: "pass", detail: "" } as RuleOutcome;
        unknown ??= `zone group at ${g.file}:${g.line} may belong to it (names or conditions not known)`;
      } else if (typeof name !== "string")
        unknown ??= `a privateDnsZoneId at ${g.file}:${g.line} is not known`;
    }
  }
  const at = { resource: pe, path: [] as string[] };
  return unknown
    ? ({ verdict: "unknown", detail: unknown, at } as RuleOutcome)
    : ({
        verdict: "fail",
        detail: `private endpoint ${typeof pe.name === "string" ? pe.name : pe.symbol} has no privateDnsZoneGroups entry for ${zoneLabel}`,
        at,
      } as RuleOutcome);
}

/** "Reached only through a private endpoint with `groupId`, registered in the private DNS zone `zoneLabel`". */
function privateEndpointRule(
  id: string,
  type: string,
  what: string,
  groupId: string,
  zone: RegExp,
  zoneLabel: string,
): IacRule {
  return {
    id,
    severity: "error",
    type,
    title: `${what} has a private endpoint registered in ${zoneLabel}`,
    fix: `declare a Microsoft.Network/privateEndpoints with privateLinkServiceConnections [{ properties: { privateLinkServiceId: <${what} id>, groupIds: ['${groupId}'] } }] and a privateDnsZoneGroups child whose privateDnsZoneConfigs point at the ${zoneLabel} zone`,
    path: [],
    evaluate: (res, all) => {
      const { sure, maybe } = privateEndpointsOf(res, groupId, all);
      const outcomes = sure.map((pe) => zoneGroupOutcome(pe, zone, zoneLabel, all));
      if (outcomes.some((o) => o.verdict === "pass")) return [{ verdict: "pass", detail: "" }];
      if (outcomes.length > 0 && maybe.length === 0) return [outcomes[0]!];
      if (maybe.length > 0)
        return [
          {
            verdict: "unknown",
            detail: `private endpoint at ${maybe[0]!.file}:${maybe[0]!.line} may target it (ids or conditions not known)`,
          },
        ];
      return [{ verdict: "fail", detail: `no private endpoint with groupIds ['${groupId}'] targets it` }];
    },
  };
}

/** `major.minor` of a Kubernetes version string (`1.33`, `1.33.2`), or undefined. */
function minorVersion(v: Value | undefined): [number, number] | undefined {
  const m = typeof v === "string" ? /^v?(\d+)\.(\d+)(\.\d+)?$/.exec(v.trim()) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** AKS: node pools keep the control plane's major version, at most 2 minor versions behind, never ahead. */
const POOL_MINOR_SKEW = 2;

/** The first rule set: PSRule for Azure ids where one exists, `Platform.*` for the architecture's own controls. */
export const IAC_RULES: readonly IacRule[] = [
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
    id: "Azure.ACR.AdminUser",
    severity: "error",
    type: ACR,
    title: "ACR admin user is disabled",
    fix: "set properties.adminUserEnabled: false and pull with Entra identities (AcrPull)",
    path: ["properties", "adminUserEnabled"],
    ok: isFalseOrAbsent,
  },
  {
    id: "Azure.ACR.AnonymousAccess",
    severity: "error",
    type: ACR,
    title: "ACR anonymous pull is disabled",
    fix: "set properties.anonymousPullEnabled: false",
    path: ["properties", "anonymousPullEnabled"],
    ok: isFalseOrAbsent,
  },
  {
    id: "Azure.ACR.Firewall",
    severity: "error",
    type: ACR,
    title: "ACR public network access is disabled",
    fix: "set properties.publicNetworkAccess: 'Disabled' and reach the registry through its private endpoint",
    path: ["properties", "publicNetworkAccess"],
    ok: oneOf("Disabled"),
  },
  {
    id: "Azure.ACR.MinSku",
    severity: "error",
    type: ACR,
    title: "ACR uses the Premium SKU",
    fix: "set sku: { name: 'Premium' } (private endpoints, geo-replication and zone redundancy need it)",
    path: ["sku", "name"],
    ok: oneOf("Premium"),
  },
  {
    id: "Azure.KeyVault.RBAC",
    severity: "error",
    type: KV,
    title: "Key Vault uses Azure RBAC",
    fix: "set properties.enableRbacAuthorization: true and grant roles instead of access policies",
    path: ["properties", "enableRbacAuthorization"],
    ok: isTrue,
  },
  {
    id: "Azure.KeyVault.PurgeProtect",
    severity: "error",
    type: KV,
    title: "Key Vault purge protection is enabled",
    fix: "set properties.enablePurgeProtection: true",
    path: ["properties", "enablePurgeProtection"],
    ok: isTrue,
  },
  {
    id: "Platform.KeyVault.PublicAccess",
    severity: "error",
    type: KV,
    title: "Key Vault public network access is disabled",
    fix: "set properties.publicNetworkAccess: 'Disabled' and reach the vault through its private endpoint",
    path: ["properties", "publicNetworkAccess"],
    ok: oneOf("Disabled"),
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
    id: "Platform.ACR.ZoneRedundancy",
    severity: "error",
    type: ACR,
    title: "ACR is zone redundant",
    fix: "set properties.zoneRedundancy: 'Enabled'",
    path: ["properties", "zoneRedundancy"],
    ok: oneOf("Enabled"),
  },
  {
    id: "Azure.ACR.GeoReplica",
    severity: "error",
    type: ACR,
    title: "ACR is geo-replicated to the standby region",
    fix: "declare a replications child (Microsoft.ContainerRegistry/registries/replications) in the standby region",
    path: [],
    evaluate: (res, all) => {
      const { sure, maybe } = childrenOf(res, `${ACR}/replications`, all);
      if (sure.length > 0) return [{ verdict: "pass", detail: "" }];
      if (maybe.length > 0)
        return [
          {
            verdict: "unknown",
            detail: `replication at ${maybe[0]!.file}:${maybe[0]!.line} may belong to it (names or conditions not known)`,
          },
        ];
      return [{ verdict: "fail", detail: "no replications are declared for it" }];
    },
  },
  {
    id: "Azure.KeyVault.SoftDelete",
    severity: "error",
    type: KV,
    title: "Key Vault soft delete is enabled",
    fix: "remove properties.enableSoftDelete: false (soft delete is on by default) or set it to true",
    path: ["properties", "enableSoftDelete"],
    ok: (v) => v === undefined || v === null || v === true,
  },
  {
    id: "Azure.FrontDoorWAF.Enabled",
    severity: "error",
    type: FD_WAF,
    title: "Front Door WAF policy is enabled",
    fix: "set properties.policySettings.enabledState: 'Enabled'",
    path: ["properties", "policySettings", "enabledState"],
    ok: (v) => v === undefined || oneOf("Enabled")(v),
  },
  {
    id: "Azure.FrontDoorWAF.PreventionMode",
    severity: "error",
    type: FD_WAF,
    title: "Front Door WAF policy blocks (Prevention mode)",
    fix: "set properties.policySettings.mode: 'Prevention'",
    path: ["properties", "policySettings", "mode"],
    ok: oneOf("Prevention"),
  },
  {
    id: "Azure.FrontDoorWAF.RuleGroups",
    severity: "error",
    type: FD_WAF,
    title: "Front Door WAF uses the default rule set (≥ 2.1) and the bot manager rule set",
    fix: "add managedRules.managedRuleSets [{ ruleSetType: 'Microsoft_DefaultRuleSet', ruleSetVersion: '2.1', ruleSetAction: 'Block' }, { ruleSetType: 'Microsoft_BotManagerRuleSet', ruleSetVersion: '1.1' }]",
    path: ["properties", "managedRules", "managedRuleSets"],
    evaluate: (res) => {
      const sets = valueAt(res, "properties", "managedRules", "managedRuleSets");
      if (isUnknown(sets)) return [{ verdict: "unknown", detail: sets.reason }];
      const list = Array.isArray(sets) ? sets : [];
      if (
        list.some(
          (x) =>
            isUnknown(x) || isUnknown(getProp(x, "ruleSetType")) || isUnknown(getProp(x, "ruleSetVersion")),
        )
      )
        return [{ verdict: "unknown", detail: "a managed rule set is not known" }];
      const version = (x: Value) => Number.parseFloat(String(getProp(x, "ruleSetVersion") ?? "0"));
      const type = (x: Value) => lc(getProp(x, "ruleSetType"));
      const missing: string[] = [];
      if (!list.some((x) => type(x) === "microsoft_defaultruleset" && version(x) >= 2.1))
        missing.push("Microsoft_DefaultRuleSet ≥ 2.1");
      if (!list.some((x) => type(x) === "microsoft_botmanagerruleset"))
        missing.push("Microsoft_BotManagerRuleSet");
      return missing.length === 0
        ? [{ verdict: "pass", detail: "" }]
        : [{ verdict: "fail", detail: `managed rule sets lack ${missing.join(" and ")}` }];
    },
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
  privateEndpointRule(
    "Platform.ACR.PrivateEndpoint",
    ACR,
    "ACR",
    "registry",
    /^privatelink\.azurecr\.io$/i,
    "privatelink.azurecr.io",
  ),
  privateEndpointRule(
    "Platform.KeyVault.PrivateEndpoint",
    KV,
    "Key Vault",
    "vault",
    /^privatelink\.vaultcore\.azure\.net$/i,
    "privatelink.vaultcore.azure.net",
  ),
  {
    id: "Azure.KeyVault.Firewall",
    severity: "error",
    type: KV,
    title: "Key Vault firewall denies by default",
    fix: "set properties.networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' } (with publicNetworkAccess: 'Disabled')",
    path: ["properties", "networkAcls", "defaultAction"],
    // With public network access off there is no public traffic for the firewall to admit (PSRule passes it too).
    evaluate: (res) => {
      const access = valueAt(res, "properties", "publicNetworkAccess");
      if (oneOf("Disabled")(access)) return [{ verdict: "pass", detail: "" }];
      const v = valueAt(res, "properties", "networkAcls", "defaultAction");
      if (oneOf("Deny")(v)) return [{ verdict: "pass", detail: "" }];
      const unknown = [v, access].find(isUnknown);
      if (unknown) return [{ verdict: "unknown", detail: unknown.reason }];
      return [
        {
          verdict: "fail",
          detail: `networkAcls.defaultAction is ${show(v)} and publicNetworkAccess ${show(access)}`,
        },
      ];
    },
  },
  {
    id: "Platform.FrontDoor.PrivateLinkOrigin",
    severity: "error",
    type: "Microsoft.Cdn/profiles/originGroups/origins",
    title: "Front Door reaches its origin over Private Link",
    fix: "set properties.sharedPrivateLinkResource: { privateLink: { id: <Private Link Service id> }, privateLinkLocation: <region>, requestMessage: '…' } (Premium_AzureFrontDoor)",
    path: ["properties", "sharedPrivateLinkResource", "privateLink", "id"],
    evaluate: (res) => {
      const link = valueAt(res, "properties", "sharedPrivateLinkResource");
      const v = getProp(getProp(link, "privateLink"), "id");
      if ((typeof v === "string" && v.trim() !== "") || idTarget(v)) return [{ verdict: "pass", detail: "" }];
      if (isUnknown(link) || isUnknown(v))
        return [{ verdict: "unknown", detail: (isUnknown(link) ? link : (v as UnknownValue)).reason }];
      return [{ verdict: "fail", detail: `sharedPrivateLinkResource.privateLink.id is ${show(v)}` }];
    },
  },
  {
    id: "Platform.Identity.FederatedAudience",
    severity: "error",
    type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    title: "Federated identity credentials accept only the Entra token exchange audience",
    fix: "set properties.audiences: ['api://AzureADTokenExchange']",
    path: ["properties", "audiences"],
    ok: (v) =>
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((a) => typeof a === "string" && a.toLowerCase() === "api://azureadtokenexchange"),
  },
];

function lookup(body: Value, path: readonly string[]): { value: Value | undefined; unknownAt?: string } {
  let current: Value | undefined = body;
  for (let i = 0; i < path.length; i++) {
    if (isUnknown(current)) return { value: current, unknownAt: path.slice(0, i).join(".") };
    current = getProp(current, path[i]!);
    if (current === undefined) return { value: undefined };
  }
  return isUnknown(current) ? { value: current, unknownAt: path.join(".") } : { value: current };
}

const show = (v: Value | undefined): string => (v === undefined ? "absent" : JSON.stringify(v));

/** Run the rules on deployable resources; returns findings and the number of (rule, resource) evaluations. */
export function evaluateRules(
  resources: readonly ArmResource[],
  rules: readonly IacRule[] = IAC_RULES,
): { findings: IacFinding[]; evaluated: number } {
  const findings: IacFinding[] = [];
  let evaluated = 0;
  for (const res of resources) {
    if (res.existing || res.condition === false) continue;
    const type = res.type.toLowerCase();
    for (const rule of rules) {
      if (rule.type.toLowerCase() !== type) continue;
      evaluated++;
      const base = (at: { file: string; line: number }, path: readonly string[]) => ({
        rule: rule.id,
        severity: rule.severity,
        file: at.file,
        line: at.line,
        resourceType: res.type,
        ...(typeof res.name === "string" ? { resourceName: res.name } : {}),
        ...(path.length > 0 ? { field: path.join(".") } : {}),
      });
      if (rule.evaluate) {
        for (const o of rule.evaluate(res, resources)) {
          if (o.verdict === "pass") continue;
          const target = o.at?.resource ?? res;
          const path = o.at?.path ?? rule.path;
          findings.push({
            ...base(target.locate(path), path),
            verdict: o.verdict,
            message:
              o.verdict === "unknown"
                ? `${rule.title}: cannot be proven statically (${o.detail}); ${rule.fix}`
                : `${rule.title}: ${o.detail}; ${rule.fix}`,
          });
        }
        continue;
      }
      const { value, unknownAt } = lookup(res.body, rule.path);
      const field = rule.path.join(".");
      const b = base(res.locate(rule.path), rule.path);
      if (value === undefined && rule.absent) {
        findings.push({
          ...b,
          verdict: "unknown",
          message: `${rule.title}: cannot be proven statically (${field} ${rule.absent}); ${rule.fix}`,
        });
      } else if (isUnknown(value)) {
        findings.push({
          ...b,
          verdict: "unknown",
          message: `${rule.title}: cannot be proven statically (${unknownAt || field}: ${value.reason}); ${rule.fix}`,
        });
      } else if (rule.ok && !rule.ok(value)) {
        findings.push({
          ...b,
          verdict: "fail",
          message: `${rule.title}: ${field} is ${show(value)}; ${rule.fix}`,
        });
      }
    }
  }
  return { findings, evaluated };
}
