import { lookupApi } from "./catalogue.ts";
import type { Finding } from "./types.ts";
import { compareVersions, minorOf } from "./versions.ts";

/** A rendered manifest object and where it came from. */
export interface ManifestObject {
  obj: {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
    spec?: unknown;
    [k: string]: unknown;
  };
  file?: string;
  line?: number;
}

const subject = (o: ManifestObject["obj"]) =>
  `${String(o.kind)} ${o.metadata?.namespace ? `${String(o.metadata.namespace)}/` : ""}${String(o.metadata?.name ?? "?")}`;

/**
 * Objects whose apiVersion is removed on the way from `current` to `target` (blocker), already
 * unserved at `current` (blocker: the config repo cannot apply), or deprecated by `target` (warning).
 */
export function apiFindings(objects: ManifestObject[], current: string, target: string): Finding[] {
  const out: Finding[] = [];
  const cur = minorOf(current);
  const tgt = minorOf(target);
  for (const m of objects) {
    const entry = lookupApi(String(m.obj.apiVersion), String(m.obj.kind));
    if (!entry) continue;
    const where = { subject: subject(m.obj), file: m.file, line: m.line };
    const fix = entry.replacement
      ? `Change apiVersion to ${entry.replacement}${entry.note ? ` (${entry.note})` : ""}, then re-run the plan.`
      : `Remove it: ${entry.note ?? "the API has no replacement"}.`;
    if (compareVersions(entry.removedIn, tgt) <= 0) {
      const already = compareVersions(entry.removedIn, cur) <= 0;
      out.push({
        check: "removed-api",
        severity: "blocker",
        message: already
          ? `${entry.apiVersion} ${entry.kind} is not served since Kubernetes ${entry.removedIn}; the cluster (${cur}) already rejects it`
          : `${entry.apiVersion} ${entry.kind} is removed in Kubernetes ${entry.removedIn}, which this upgrade reaches`,
        fix,
        ...where,
      });
    } else if (compareVersions(entry.deprecatedIn, tgt) <= 0) {
      out.push({
        check: "deprecated-api",
        severity: "warning",
        message: `${entry.apiVersion} ${entry.kind} is deprecated since ${entry.deprecatedIn} and removed in ${entry.removedIn}`,
        fix,
        ...where,
      });
    }
  }
  return out;
}

interface Workload {
  m: ManifestObject;
  namespace: string;
  replicas: number;
  labels: Record<string, string>;
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "ReplicaSet"]);

/** Rendered manifests carry integers as bigint (the CEL engine's int); plain JSON as number. */
function int(v: unknown): number | undefined {
  return typeof v === "number" || typeof v === "bigint" ? Number(v) : undefined;
}

function record(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function workloads(objects: ManifestObject[]): Workload[] {
  return objects
    .filter((m) => WORKLOAD_KINDS.has(String(m.obj.kind)))
    .map((m) => {
      const spec = record(m.obj.spec);
      const tmplLabels = record(record(record(spec.template).metadata).labels);
      return {
        m,
        namespace: String(m.obj.metadata?.namespace ?? "default"),
        // The API server defaults replicas to 1.
        replicas: int(spec.replicas) ?? 1,
        labels: Object.fromEntries(Object.entries(tmplLabels).map(([k, v]) => [k, String(v)])),
      };
    });
}

function selects(selector: Record<string, unknown>, labels: Record<string, string>): boolean {
  const matchLabels = record(selector.matchLabels);
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  if (Object.keys(matchLabels).length === 0 && exprs.length === 0) return true;
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== String(v)) return false;
  for (const e of exprs.map(record)) {
    const key = String(e.key);
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    const has = key in labels;
    if (e.operator === "In" && !(has && values.includes(labels[key]!))) return false;
    if (e.operator === "NotIn" && has && values.includes(labels[key]!)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** An int-or-percent PDB field resolved against a replica count (percent rounds up, as the disruption controller does). */
function resolveCount(v: unknown, replicas: number): number | undefined {
  if (int(v) !== undefined) return int(v);
  if (typeof v === "string" && /^\d+%$/.test(v)) return Math.ceil((Number(v.slice(0, -1)) / 100) * replicas);
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/** PodDisruptionBudgets that let no pod be evicted (a node drain would wait out drainTimeoutInMinutes and fail), and single-replica workloads. */
export function drainFindings(objects: ManifestObject[]): Finding[] {
  const out: Finding[] = [];
  const all = workloads(objects);
  for (const m of objects.filter((o) => o.obj.kind === "PodDisruptionBudget")) {
    const spec = record(m.obj.spec);
    const ns = String(m.obj.metadata?.namespace ?? "default");
    const targets = all.filter((w) => w.namespace === ns && selects(record(spec.selector), w.labels));
    const replicas = targets.reduce((n, w) => n + w.replicas, 0);
    const maxUnavailable = resolveCount(spec.maxUnavailable, replicas);
    const minAvailable = resolveCount(spec.minAvailable, replicas);
    let why: string | undefined;
    if (maxUnavailable === 0) why = "maxUnavailable is 0";
    else if (minAvailable !== undefined && targets.length > 0 && minAvailable >= replicas)
      why = `minAvailable ${String(spec.minAvailable)} ≥ the ${replicas} replica(s) it selects`;
    if (why) {
      out.push({
        check: "pdb-blocks-drain",
        severity: "blocker",
        message: `PodDisruptionBudget ${ns}/${String(m.obj.metadata?.name)} allows no eviction (${why}); node drains stop on it`,
        fix: "Allow at least one disruption: maxUnavailable: 1 (or minAvailable below the replica count), and run ≥ 2 replicas.",
        subject: subject(m.obj),
        file: m.file,
        line: m.line,
      });
    }
  }
  for (const w of all.filter((x) => x.replicas === 1)) {
    out.push({
      check: "single-replica",
      severity: "warning",
      message: `${subject(w.m.obj)} runs 1 replica: it is down while its node drains`,
      fix: "Run at least 2 replicas (with topology spread across nodes) and a PodDisruptionBudget with maxUnavailable: 1.",
      subject: subject(w.m.obj),
      file: w.m.file,
      line: w.m.line,
    });
  }
  return out;
}
