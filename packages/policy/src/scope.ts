// Checking part of a repository exactly as the full check would: which units to judge (changed-only,
// a shard), and the cross-render context their verdicts read (Namespaces, ServiceAccounts) from units not
// judged: cached when the cache entry's digest matches, else rendered as context only.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage, type Logger, mapLimit } from "@platform/core";
import { glob, isDynamicPattern } from "tinyglobby";
import { MESH_ROOT_NAMESPACES } from "./builtin/render.ts";
import { type GlobalInput, selectChanged } from "./changed.ts";
import { type BaseHistory, type ChangeSet, type GitRepo, WorkTreeBlobs } from "./git.ts";
import type { PlanFs } from "./kustomize.ts";
import { joinResults, type LoadResult, type ManifestPlan, type PlannedUnit } from "./manifests.ts";
import { type ShardSpec, shardUnits } from "./shard.ts";
import type { KubeObject, LoadedObject } from "./types.ts";
import {
  type ContextEntry,
  contextNamespace,
  contextProjection,
  mayDefineContext,
  recordFor,
  recordsFor,
  type UnitCache,
  type UnitInputs,
  type UnitRecord,
  unitDigest,
  unitInputs,
  unitOf,
} from "./units.ts";

export interface ScopeOptions {
  changes?: ChangeSet;
  shard?: ShardSpec;
  cache?: UnitCache;
  /** Inputs every verdict depends on: a change to one selects everything. */
  global: GlobalInput[];
  /** Why some policy reads every object (data.inventory, params from renders): then context is everything. */
  needsAll?: string;
  /** The work tree's git repository (blob ids without reading files), when the workspace is one. */
  repo?: GitRepo;
  /** Its blob ids, when the caller listed them already (else listed from `repo`). */
  blobs?: WorkTreeBlobs;
  /** What the plan asked about the tree (the disk unless given): unit inputs ask it too. */
  fs?: PlanFs;
  /** What each unit reads, when the plan knows it already (plan-cache.ts). */
  inputs?: ReadonlyMap<string, UnitInputs>;
  /** The merge base's files (changed-only): local git, or the GitHub API without history. */
  history?: BaseHistory;
  /** Render options every unit's output depends on (kube version, values, tools): part of each digest. */
  salt?: string;
  log?: Logger;
}

/** What a scoped run judged and why: the summary's "selection" section. */
export interface ScopeReport {
  /** Planned units in the whole input. */
  units: number;
  changedSince?: string;
  base?: string;
  source?: ChangeSet["source"];
  changedFiles?: number;
  /** Why everything was judged, when a change could not be narrowed. */
  all?: string;
  /** Units judged, each with the reason. */
  judged: Array<{ path: string; why: string }>;
  /** Units not judged whose context objects came from the cache, and those rendered for context only. */
  context: { cached: number; rendered: string[] };
  /** Changed files that cannot change a verdict, with the reason. */
  ignored: Array<{ file: string; why: string }>;
  /** Deleted plain manifests: their objects are gone, nothing to judge. */
  removed: string[];
  shard?: ShardSpec & { of: number };
}

export interface ScopedLoad {
  /** The judged units' objects, plus planning and render problems. */
  loaded: LoadResult;
  /** Objects of units not judged that the judged ones' verdicts read. */
  context: LoadedObject[];
  report: ScopeReport;
  /** Cache records of every unit rendered cleanly in this run. */
  records: Map<string, UnitRecord>;
}

const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

/**
 * Namespaces whose context differs between two sets of context projections; "unknown" when a mesh root
 * namespace's changed (its policies apply to every namespace).
 */
function contextDelta(before: KubeObject[], after: KubeObject[]): Set<string> | "unknown" {
  const a = new Map(before.map((o) => [key(o), canonical(o)]));
  const b = new Map(after.map((o) => [key(o), canonical(o)]));
  const out = new Set<string>();
  for (const o of [...before, ...after]) if (a.get(key(o)) !== b.get(key(o))) out.add(contextNamespace(o));
  return MESH_ROOT_NAMESPACES.some((n) => out.has(n)) ? "unknown" : out;
}

/** JSON with sorted keys: a render and a cache file may order an object's keys differently. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

async function readText(root: string, path: string): Promise<string | undefined> {
  return readFile(join(root, path), "utf8").catch(() => undefined);
}

/** Judges the whole plan, or the part a change or shard selects, with the context that part needs. */
export async function scopedLoad(plan: ManifestPlan, o: ScopeOptions): Promise<ScopedLoad> {
  const root = plan.root;
  const blobs = o.blobs ?? (await WorkTreeBlobs.open(root, o.repo));
  const inputs = new Map<string, UnitInputs>(o.inputs ?? []);
  const digests = new Map<string, string>();
  await mapLimit(plan.units, 16, async (u) => {
    let inp = inputs.get(u.path);
    if (!inp) {
      inp = await unitInputs(root, u, blobs, o.fs);
      inputs.set(u.path, inp);
    }
    digests.set(u.path, await unitDigest(inp.files, (p) => blobs.id(p), o.salt));
  });
  const report: ScopeReport = {
    units: plan.units.length,
    judged: [],
    context: { cached: 0, rendered: [] },
    ignored: [],
    removed: [],
  };
  const why = new Map<string, string>();
  let judge: PlannedUnit[] = plan.units;
  let narrowed = false;
  if (o.changes) {
    Object.assign(report, {
      changedSince: o.changes.since,
      ...(o.changes.base ? { base: o.changes.base } : {}),
      source: o.changes.source,
      changedFiles: o.changes.files.length,
    });
    const sel = await selectChanged(root, plan.units, inputs, o.changes, o.global);
    report.ignored = sel.ignored;
    report.removed = sel.removed;
    if (sel.all) report.all = sel.all;
    else if (o.needsAll && (sel.units.size > 0 || sel.removed.length > 0)) report.all = o.needsAll;
    else {
      narrowed = true;
      judge = plan.units.filter((u) => sel.units.has(u.path));
      for (const [u, w] of sel.units) why.set(u, w);
    }
  }
  const selected = judge;
  if (o.shard) {
    const weights = o.cache
      ? new Map([...o.cache].map(([p, r]) => [p, r.objects] as [string, number]))
      : undefined;
    judge = shardUnits(judge, o.shard, weights);
    report.shard = { ...o.shard, of: selected.length };
  }
  const fresh = (u: PlannedUnit) => recordFor(o.cache, u.path, digests.get(u.path));
  const mayDefine = async (u: PlannedUnit) => {
    for (const f of inputs.get(u.path)?.files ?? [])
      if (mayDefineContext(await readText(root, f))) return true;
    return false;
  };
  // Context for the judged units from every unit not judged.
  const judged = new Set(judge.map((u) => u.path));
  const cached = new Map<string, LoadedObject[]>();
  const contextUnits: PlannedUnit[] = [];
  if (judge.length > 0)
    for (const u of plan.units) {
      if (judged.has(u.path)) continue;
      const r = o.needsAll ? undefined : fresh(u);
      if (r) {
        report.context.cached++;
        cached.set(u.path, r.context.map(asContext));
      } else if (o.needsAll || (await mayDefine(u))) contextUnits.push(u);
    }
  const [mine, ctx] = await Promise.all([plan.render(judge), plan.render(contextUnits)]);
  let loaded = mine;
  let ctxLoaded = ctx;

  if (narrowed && o.changes) {
    const delta = await changedContext(plan, judge, loaded, inputs, o, report.removed);
    if (delta === "unknown" || delta.size > 0) {
      const more: PlannedUnit[] = [];
      for (const u of plan.units) {
        if (judged.has(u.path)) continue;
        const r = fresh(u);
        if (delta === "unknown" || !r || r.namespaces.some((n) => delta.has(n))) more.push(u);
      }
      const reason =
        delta === "unknown"
          ? "a changed render's ServiceAccounts or Namespaces at the merge base are unknown (no cache entry for them)"
          : `its namespace has a changed ServiceAccount or Namespace (${[...delta].sort().join(", ") || "cluster scope"})`;
      for (const u of more) {
        why.set(u.path, reason);
        judged.add(u.path);
        // Judged now: its own objects replace what the cache said of it.
        if (cached.delete(u.path)) report.context.cached--;
      }
      const already = new Set(contextUnits.map((u) => u.path));
      const extra = await plan.render(more.filter((u) => !already.has(u.path)));
      // Promote units rendered as context to judged ones.
      const promote = (r: LoadResult) =>
        r.objects.filter((x) =>
          more.some((u) => u.path === unitOf({ via: x.source.via, file: x.source.file })),
        );
      loaded = joinResults(loaded, extra, { ...emptyResult(), objects: promote(ctxLoaded) });
      ctxLoaded = { ...ctxLoaded, objects: ctxLoaded.objects.filter((x) => !promote(ctxLoaded).includes(x)) };
      judge = plan.units.filter((u) => judged.has(u.path));
      if (delta === "unknown") report.all = reason;
    }
  }
  report.judged = judge.map((u) => ({
    path: u.path,
    why: why.get(u.path) ?? (o.shard ? `shard ${o.shard.index}/${o.shard.count}` : "full check"),
  }));
  report.context.rendered = contextUnits.filter((u) => !judged.has(u.path)).map((u) => u.path);
  const rendered = [...judge, ...contextUnits.filter((u) => !judged.has(u.path))];
  const all = joinResults(loaded, ctxLoaded);
  const ok = rendered.filter((u) => renderedCleanly(u, all));
  // A shard reports the plan's own rows once (shard 1), and context units' render problems only where judged.
  const planRows = !o.shard || o.shard.index === 1 ? plan.planned : emptyResult();
  const ctxProblems = o.shard ? emptyResult() : { ...emptyResult(), problems: ctxLoaded.problems };
  return {
    loaded: joinResults(planRows, loaded, ctxProblems),
    context: [...[...cached.values()].flat(), ...ctxLoaded.objects],
    report,
    records: recordsFor(ok, all, digests),
  };
}

function emptyResult(): LoadResult {
  return { objects: [], problems: [], notes: [], units: [], skipped: [] };
}

function asContext(c: ContextEntry): LoadedObject {
  return {
    obj: c.obj,
    source: { file: c.file, line: c.line, ...(c.via ? { via: c.via } : {}) },
    locate: () => undefined,
  };
}

/** A unit rendered without a problem (a failed render's objects are not a record of it). */
function renderedCleanly(u: PlannedUnit, r: LoadResult): boolean {
  if (!r.units.some((x) => x.path === u.path)) return false;
  return !r.problems.some((p) => p.file === u.path || (u.kind !== "yaml" && p.file.startsWith(`${u.path}/`)));
}

/**
 * The namespaces whose context objects a change altered: each changed unit's context now against at the
 * merge base (from the cache when its entry matches the base's bytes, or provably none from the base's
 * files), plus deleted plain manifests'. "unknown" when the base cannot be known.
 */
async function changedContext(
  plan: ManifestPlan,
  judge: PlannedUnit[],
  loaded: LoadResult,
  inputs: Map<string, UnitInputs>,
  o: ScopeOptions,
  removed: string[],
): Promise<Set<string> | "unknown"> {
  const out = new Set<string>();
  const changed = new Set((o.changes?.files ?? []).map((f) => f.path));
  const history = o.history;
  const base = history && o.changes?.base ? o.changes.base : undefined;
  // The base cannot be read (a truncated tree): unknown, so everything is judged.
  const wanted = [...new Set([...judge.flatMap((u) => inputs.get(u.path)?.files ?? []), ...removed])];
  const baseBlobs =
    base && history
      ? await history.blobs(base, wanted).catch((err) => {
          o.log?.warn(`cannot read the merge base ${base}: ${errorMessage(err)}`);
          return undefined;
        })
      : undefined;
  if (base && !baseBlobs) return "unknown";
  const baseText = async (paths: string[]): Promise<Array<string | undefined>> => {
    if (!base || !history) return paths.map(() => undefined);
    const fromGit = await history.show(
      base,
      paths.filter((p) => changed.has(p)),
    );
    return Promise.all(paths.map((p) => (changed.has(p) ? fromGit.get(p) : readText(plan.root, p))));
  };
  const now = new Map<string, KubeObject[]>();
  for (const x of loaded.objects) {
    const p = contextProjection(x.obj);
    if (!p) continue;
    const u = unitOf({ via: x.source.via, file: x.source.file });
    now.set(u, [...(now.get(u) ?? []), p]);
  }
  for (const u of judge) {
    const inp = inputs.get(u.path)!;
    const after = now.get(u.path) ?? [];
    let before: KubeObject[] | undefined;
    if (baseBlobs) {
      const rec = recordFor(o.cache, u.path, await unitDigest(inp.files, (p) => baseBlobs.get(p), o.salt));
      if (rec) before = rec.context.map((c) => c.obj);
      else if (inp.files.every((f) => !baseBlobs.has(f))) before = [];
      else if (!inp.kustomizations.some((k) => changed.has(k))) {
        // Same files as now (no kustomization changed what the tree reads): none could define context.
        const texts = await baseText(inp.files.filter((f) => baseBlobs.has(f)));
        if (!texts.some((t) => t === undefined || mayDefineContext(t))) before = [];
      }
    } else if (inp.files.every((f) => o.changes?.files.some((c) => c.path === f && c.status === "added")))
      before = [];
    if (before === undefined) return "unknown";
    const d = contextDelta(before, after);
    if (d === "unknown") return d;
    for (const n of d) out.add(n);
  }
  for (const path of removed) {
    if (!/\.(ya?ml|json)$/i.test(path)) continue;
    const rec = baseBlobs
      ? recordFor(o.cache, path, await unitDigest([path], (p) => baseBlobs.get(p), o.salt))
      : undefined;
    if (rec) {
      const d = contextDelta(
        rec.context.map((c) => c.obj),
        [],
      );
      if (d === "unknown") return d;
      for (const n of d) out.add(n);
      continue;
    }
    const [text] = base && history ? [(await history.show(base, [path])).get(path)] : [undefined];
    if (text === undefined || mayDefineContext(text)) return "unknown";
  }
  return out;
}

/**
 * Why the given policy files read objects beyond the one judged (Gatekeeper `data.inventory`, VAP params
 * that may live in any render), or undefined. Built-in rules and presets read only Namespaces and
 * ServiceAccounts, which the scoped load carries as context.
 */
export async function policiesReadingEverything(
  root: string,
  policies: string[],
): Promise<string | undefined> {
  for (const p of policies) {
    const files = isDynamicPattern(p)
      ? await glob(p, { cwd: root, absolute: true, onlyFiles: true })
      : await filesAt(join(root, p));
    for (const f of files) {
      const text = await readFile(f, "utf8").catch(() => "");
      if (/data\.inventory/.test(text))
        return `policy ${p} reads data.inventory (objects of every render): everything is checked`;
      if (/^\s*paramKind:/m.test(text))
        return `policy ${p} takes params (paramKind) that any render may define: everything is checked`;
    }
  }
  return undefined;
}

async function filesAt(p: string): Promise<string[]> {
  const st = await stat(p).catch(() => undefined);
  if (!st) return [];
  if (st.isFile()) return [p];
  const entries = await readdir(p, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

const MAX_LISTED = 20;

/** The selection in a few lines, for the terminal and the job summary ("all" with the reason when it is). */
export function describeScope(s: ScopeReport): string[] {
  const lines: string[] = [];
  const n = s.judged.length;
  const shard = s.shard
    ? s.shard.index === 0
      ? ` across ${s.shard.count} shards`
      : ` (shard ${s.shard.index}/${s.shard.count} of ${s.shard.of} selected)`
    : "";
  if (s.changedSince !== undefined) {
    const what = s.all
      ? `all ${s.units} renders: ${s.all}`
      : `${s.shard ? s.shard.of : n} of ${s.units} renders affected`;
    lines.push(
      `changed-only since ${s.changedSince}${s.base ? ` (merge base ${s.base.slice(0, 12)})` : ""}, ${s.changedFiles ?? 0} changed file(s): ${what}${shard}`,
    );
  } else lines.push(`${n} of ${s.units} renders judged${shard}`);
  for (const j of s.judged.slice(0, MAX_LISTED)) lines.push(`  ${j.path}: ${j.why}`);
  if (n > MAX_LISTED) lines.push(`  … and ${n - MAX_LISTED} more`);
  for (const i of s.ignored.slice(0, MAX_LISTED)) lines.push(`  not judged: ${i.file} (${i.why})`);
  for (const r of s.removed.slice(0, MAX_LISTED)) lines.push(`  removed: ${r} (its objects are gone)`);
  if (s.context.cached + s.context.rendered.length > 0)
    lines.push(
      `  context (Namespaces, ServiceAccounts) of the other renders: ${s.context.cached} from the cache, ${s.context.rendered.length} rendered`,
    );
  return lines;
}
