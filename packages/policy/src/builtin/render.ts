// Render-level facts for the built-in rules that judge one object against the rest of the render (PLAT019,
// PLAT020, PLAT024, PLAT026). Admission sees one object at a time, so these facts exist only in the dry-run:
// the rules read them through the CEL variable `render`, which vap.ts refuses to translate (such rules are
// listed as not exported, with the reason). The facts are plain data computed once per render, and the rule's
// CEL stays the place where the verdict is decided.
import type { RenderContext } from "../admission/context.ts";
import { podTarget } from "../podspec.ts";
import type { KubeObject } from "../types.ts";

/**
 * Namespaces whose namespace-wide Istio policies apply to the whole mesh: Istio's default root namespace
 * (meshConfig.rootNamespace, `istio-system`) and the AKS Istio add-on's (`aks-istio-system`). A mesh that
 * moves its root elsewhere is not recognised, so its team namespaces need their own policies (fail closed).
 */
export const MESH_ROOT_NAMESPACES = ["istio-system", "aks-istio-system"];

/** What one namespace of the render has, as the rules see it. */
export interface NamespaceFacts {
  /**
   * Effective mTLS mode of the namespace's workloads without their own policy: the namespace-wide
   * PeerAuthentication's mode, else (no such policy, or mode UNSET) the mesh-wide one's, else Istio's
   * default, PERMISSIVE.
   */
  mtls: string;
  /** Where the mode comes from (for the message). */
  mtlsFrom: string;
  /** The default-deny AuthorizationPolicy covering the namespace ("ns/name"), or "". */
  defaultDeny: string;
  /** The namespace's default-deny CiliumNetworkPolicy or NetworkPolicy ("Kind ns/name"), or "" (mesh: cilium). */
  defaultDenyNetwork: string;
  /** ResourceQuota names in the namespace. */
  quotas: string[];
  /** Pod-bearing objects in the namespace, as "Kind/name". */
  workloads: string[];
}

/** The CEL variable `render`. */
export interface RenderFacts {
  namespaces: Record<string, NamespaceFacts>;
  /** "namespace/name" of a Secret → its keys whose value looks like a credential, as "key (what)". */
  secretCredentials: Record<string, string[]>;
}

// The kinds the facts are made of; pod-bearing kinds as podspec.ts knows them.
const FACT_KINDS = [
  ...["Namespace", "PeerAuthentication", "AuthorizationPolicy", "ResourceQuota", "Secret"],
  ...["CiliumNetworkPolicy", "NetworkPolicy"],
  ...["Pod", "PodTemplate", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"],
  ...["Job", "CronJob", "Rollout"],
];

const cache = new WeakMap<RenderContext, RenderFacts>();

/** The render facts of a render context (computed once per context). */
export function renderFacts(ctx: RenderContext): RenderFacts {
  let facts = cache.get(ctx);
  if (!facts) {
    facts = computeFacts(FACT_KINDS.flatMap((k) => ctx.find("*", k)));
    cache.set(ctx, facts);
  }
  return facts;
}

const isIstio = (o: KubeObject) => o.apiVersion.startsWith("security.istio.io/");
const spec = (o: KubeObject) => (isObj(o.spec) ? o.spec : {});
const ns = (o: KubeObject) => o.metadata?.namespace ?? "";

/**
 * Namespace-wide means no `selector` and no `targetRef(s)` at all. Istio may treat an empty selector as
 * namespace-wide too; counting it as workload-level is the stricter reading (PLAT023 still judges its mode).
 */
function namespaceWide(o: KubeObject): boolean {
  const s = spec(o);
  return !("selector" in s) && !("targetRef" in s) && !("targetRefs" in s);
}

/** The mode of namespace-wide PeerAuthentications: the weakest one set, "" when none sets one (inherit). */
function modeOf(policies: KubeObject[]): { mode: string; from: string } {
  let found: { mode: string; from: string } | undefined;
  for (const p of policies) {
    const mtls = spec(p).mtls;
    const mode = isObj(mtls) && typeof mtls.mode === "string" ? mtls.mode : "UNSET";
    if (mode === "UNSET") continue;
    const from = `PeerAuthentication ${ns(p)}/${p.metadata?.name ?? ""}`;
    // Two namespace-wide policies are a conflict Istio resolves by age; the weaker mode is the safe reading.
    if (!found || (found.mode === "STRICT" && mode !== "STRICT")) found = { mode, from };
  }
  return found ?? { mode: "", from: "" };
}

/**
 * Default-deny, in Istio's AuthorizationPolicy semantics (istio.io/latest/docs/reference/config/security/
 * authorization-policy/): an ALLOW policy (the default action) with no rules never matches, so once it applies
 * every request not matched by another ALLOW is denied ("allow-nothing", `spec: {}`); a DENY policy with an
 * empty rule (`rules: [{}]`) matches every request ("deny-all"). Either counts when it is namespace-wide.
 */
function isDefaultDeny(o: KubeObject): boolean {
  if (!namespaceWide(o)) return false;
  const s = spec(o);
  const action = s.action ?? "ALLOW";
  const rules = Array.isArray(s.rules) ? s.rules : s.rules === undefined || s.rules === null ? [] : undefined;
  if (!rules) return false;
  if (action === "ALLOW") return rules.length === 0;
  if (action === "DENY") return rules.some((r) => isObj(r) && Object.keys(r).length === 0);
  return false;
}

const emptySelector = (v: unknown) =>
  isObj(v) &&
  Object.values(v).every((x) =>
    Array.isArray(x) ? x.length === 0 : isObj(x) && Object.keys(x).length === 0,
  );

/**
 * A network default-deny for ingress: a CiliumNetworkPolicy selecting every endpoint (`endpointSelector: {}`)
 * whose ingress rules name no peer (`ingress: [{}]`, Cilium's documented deny-all), or a NetworkPolicy
 * selecting every pod with policyTypes Ingress and no ingress rules.
 */
function isNetworkDefaultDeny(o: KubeObject): boolean {
  const s = spec(o);
  if (o.kind === "CiliumNetworkPolicy" && o.apiVersion.startsWith("cilium.io/"))
    return (
      emptySelector(s.endpointSelector) &&
      Array.isArray(s.ingress) &&
      s.ingress.length > 0 &&
      s.ingress.every((r) => isObj(r) && Object.keys(r).length === 0)
    );
  if (o.kind === "NetworkPolicy" && o.apiVersion === "networking.k8s.io/v1")
    return (
      emptySelector(s.podSelector) &&
      Array.isArray(s.policyTypes) &&
      s.policyTypes.includes("Ingress") &&
      (s.ingress === undefined || (Array.isArray(s.ingress) && s.ingress.length === 0))
    );
  return false;
}

function computeFacts(all: KubeObject[]): RenderFacts {
  // Grouped once by namespace, so a render of many namespaces stays linear.
  const byNamespace = new Map<string, KubeObject[]>();
  for (const o of all) {
    const list = byNamespace.get(ns(o));
    if (list) list.push(o);
    else byNamespace.set(ns(o), [o]);
  }
  const peers = (list: KubeObject[]) =>
    list.filter((o) => o.kind === "PeerAuthentication" && isIstio(o) && namespaceWide(o));
  const denies = (list: KubeObject[]) =>
    list.filter((o) => o.kind === "AuthorizationPolicy" && isIstio(o) && isDefaultDeny(o));
  const roots = MESH_ROOT_NAMESPACES.flatMap((n) => byNamespace.get(n) ?? []);
  const mesh = modeOf(peers(roots));
  const meshDeny = denies(roots)[0];
  const namespaces: Record<string, NamespaceFacts> = {};
  for (const n of all) {
    if (n.kind !== "Namespace" || n.apiVersion !== "v1" || !n.metadata?.name) continue;
    const name = n.metadata.name;
    const here = byNamespace.get(name) ?? [];
    const own = modeOf(peers(here));
    const effective = own.mode ? own : mesh.mode ? { ...mesh, from: `mesh-wide ${mesh.from}` } : undefined;
    const deny = denies(here)[0] ?? meshDeny;
    const network = here.find(isNetworkDefaultDeny);
    namespaces[name] = {
      mtls: effective?.mode ?? "PERMISSIVE",
      mtlsFrom: effective?.from ?? "no namespace-wide or mesh-wide PeerAuthentication (Istio's default)",
      defaultDeny: deny ? `${ns(deny)}/${deny.metadata?.name ?? ""}` : "",
      defaultDenyNetwork: network ? `${network.kind} ${name}/${network.metadata?.name ?? ""}` : "",
      quotas: here
        .filter((o) => o.kind === "ResourceQuota" && o.apiVersion === "v1")
        .map((o) => o.metadata?.name ?? ""),
      workloads: here.filter((o) => podTarget(o)).map((o) => `${o.kind}/${o.metadata?.name}`),
    };
  }
  const secretCredentials: Record<string, string[]> = {};
  for (const o of all) {
    if (o.kind !== "Secret" || o.apiVersion !== "v1") continue;
    const found = secretCredentialValues(o);
    if (found.length === 0) continue;
    const key = `${ns(o)}/${o.metadata?.name ?? ""}`;
    secretCredentials[key] = [...new Set([...(secretCredentials[key] ?? []), ...found])].sort();
  }
  return { namespaces, secretCredentials };
}

/**
 * Credential shapes, chosen to be specific (a value that matches is a credential, not prose about one): PEM
 * private keys, connection strings carrying a key or password, URLs with a password, and tokens whose format is
 * published by their issuer. Placeholders (`${VAR}`, `$(VAR)`, `<password>`) do not match.
 */
export const CREDENTIAL_VALUE_PATTERNS: Array<[string, RegExp]> = [
  ["private key", /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/],
  [
    "connection string with a key or password",
    /(?:^|[;\s])(?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd)\s*=\s*(?![$<{])[^;\s]{4,}/i,
  ],
  ["URL with a password", /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:(?![$<{])[^/\s@]{3,}@/i],
  ["GitHub token", /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b/],
  ["AWS access key id", /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ["Slack token", /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ["JSON web token", /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
];

/** Keys of a Secret whose value (stringData as written, data base64-decoded) looks like a credential. */
export function secretCredentialValues(secret: KubeObject): string[] {
  const out: string[] = [];
  const judge = (key: string, value: string) => {
    const hit = CREDENTIAL_VALUE_PATTERNS.find(([, re]) => re.test(value));
    if (hit) out.push(`${key} (${hit[0]})`);
  };
  const data = secret.data;
  if (isObj(data))
    // Not valid base64: the API server refuses the object; nothing to decode here.
    for (const [k, v] of Object.entries(data))
      if (typeof v === "string" && /^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v))
        judge(k, Buffer.from(v, "base64").toString("utf8"));
  const stringData = secret.stringData;
  if (isObj(stringData))
    for (const [k, v] of Object.entries(stringData)) if (typeof v === "string") judge(k, v);
  return out;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}
