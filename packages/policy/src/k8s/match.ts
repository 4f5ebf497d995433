import type { KubeObject } from "../types.ts";

/** A Kubernetes label selector (matchLabels + matchExpressions). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }>;
}

/** Label selector semantics of apimachinery: every term must hold; an empty selector matches everything. */
export function selectorMatches(
  selector: LabelSelector | undefined | null,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== String(v)) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = (e.values ?? []).map(String);
    switch (e.operator) {
      case "In":
        if (!has || !values.includes(l[e.key]!)) return false;
        break;
      case "NotIn":
        if (has && values.includes(l[e.key]!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** API group and version of an object ("" for the core group). */
export function groupVersion(obj: Pick<KubeObject, "apiVersion">): { group: string; version: string } {
  const i = obj.apiVersion.indexOf("/");
  return i < 0
    ? { group: "", version: obj.apiVersion }
    : { group: obj.apiVersion.slice(0, i), version: obj.apiVersion.slice(i + 1) };
}

/** Plural resource names whose spelling the simple rules below get wrong. */
const IRREGULAR: Record<string, string> = {
  Endpoints: "endpoints",
  PodSecurityPolicy: "podsecuritypolicies",
  NetworkPolicy: "networkpolicies",
  Ingress: "ingresses",
  IngressClass: "ingressclasses",
  StorageClass: "storageclasses",
  PriorityClass: "priorityclasses",
  RuntimeClass: "runtimeclasses",
  GatewayClass: "gatewayclasses",
  ResourceQuota: "resourcequotas",
};

/**
 * The REST resource of a kind, as discovery would report it (lower-case plural). Without a cluster there is
 * no discovery, so this is the Kubernetes naming convention plus the irregular plurals of common kinds.
 */
export function resourceOf(kind: string): string {
  const known = IRREGULAR[kind];
  if (known) return known;
  const k = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

/** Gatekeeper-style glob: `*` matches any run of characters (prefix*, *suffix, exact). */
export function globMatches(pattern: string, value: string): boolean {
  if (pattern === "*") return true;
  if (!pattern.includes("*")) return pattern === value;
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(value);
}

/** A resource rule of ValidatingAdmissionPolicy matchConstraints / matchResources. */
export interface ResourceRule {
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  operations?: string[];
  scope?: "Cluster" | "Namespaced" | "*";
  resourceNames?: string[];
}

/** Whether a rule selects an object for an operation (subresource rules like pods/status never match). */
export function ruleMatches(
  rule: ResourceRule,
  obj: KubeObject,
  operation: string,
  clusterScoped: boolean,
): boolean {
  const { group, version } = groupVersion(obj);
  const resource = resourceOf(obj.kind);
  const any = (list: string[] | undefined, value: string) =>
    !list || list.length === 0 ? false : list.includes("*") || list.includes(value);
  if (!any(rule.apiGroups, group)) return false;
  if (!any(rule.apiVersions, version)) return false;
  if (
    !(rule.resources ?? []).some((r) => r === "*" || r === resource || r === `${resource}/*` || r === "*/*")
  )
    return false;
  if (!any(rule.operations, operation) && !(rule.operations ?? []).includes("*")) return false;
  const scope = rule.scope ?? "*";
  if (scope === "Cluster" && !clusterScoped) return false;
  if (scope === "Namespaced" && clusterScoped) return false;
  if (rule.resourceNames?.length && !rule.resourceNames.includes(obj.metadata.name ?? "")) return false;
  return true;
}
