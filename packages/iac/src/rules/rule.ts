// The rule model and the property helpers every resource family's rules share.
import { getProp, isUnknown } from "../evaluate.ts";
import type { ArmResource, ResourceRef, Severity, Value } from "../types.ts";

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

export const isTrue = (v: Value | undefined): boolean => v === true;
/** Absent counts as false: the ARM default is the secure one. */
export const isFalseOrAbsent = (v: Value | undefined): boolean =>
  v === undefined || v === null || v === false;
export const oneOf =
  (...allowed: string[]) =>
  (v: Value | undefined): boolean =>
    typeof v === "string" && allowed.some((a) => a.toLowerCase() === v.toLowerCase());

/**
 * The value at a property path of a resource body (case-insensitive keys), undefined where absent; the
 * unknown itself where the path runs through a value not known statically (never "absent" for what is unseen).
 */
export const valueAt = (res: ArmResource, ...path: string[]): Value | undefined =>
  path.reduce<Value | undefined>((v, key) => (isUnknown(v) ? v : getProp(v, key)), res.body);

export const lc = (v: Value | undefined): string | undefined =>
  typeof v === "string" ? v.toLowerCase() : undefined;
export const deployed = (r: ArmResource): boolean => !r.existing && r.condition !== false;
export const lastSegment = (v: Value | undefined): string | undefined =>
  typeof v === "string" ? v.split("/").at(-1) : undefined;

/**
 * Whether `r` belongs to `target`: linked in the same file (parent/scope), an `existing` stand-in with the
 * same name (modules), or a child whose full name starts with the target's name. `unknown` when names are not known.
 */
export function belongsTo(
  link: ArmResource | undefined,
  r: ArmResource,
  target: ArmResource,
): boolean | "unknown" {
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
export function childrenOf(target: ArmResource, type: string, all: readonly ArmResource[]) {
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

export const sameType = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** A value as a finding shows it: JSON, or "absent". */
export const show = (v: Value | undefined): string => (v === undefined ? "absent" : JSON.stringify(v));
