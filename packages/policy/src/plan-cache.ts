// The plan of a changed-only or sharded check, kept between runs: which render units the inputs expand to,
// what each one reads (the kustomization dependency graph, transitively), and every kustomization's parse.
// A one-service pull request in a 1,000-service repo then plans in milliseconds instead of seconds.
//
// Fail closed. The stored plan is used only when its key matches: the cache format, the build of this code,
// the workspace root, the inputs and render mode, and a digest of the work tree as git lists it (every path
// that exists, and the blob id of every kustomization file; plan-fs.ts) — everything a plan reads. Anything
// else re-plans: from the listing, re-parsing only kustomizations whose blob id no stored parse has. A file
// that is missing, unreadable, damaged (its checksum), of another format or of another build is no cache.
// Inputs with glob patterns are always planned afresh (the glob reads the disk).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import { type Logger, mapLimit, writeFileAtomic } from "@platform/core";
import { isDynamicPattern } from "tinyglobby";
import type { WorkTreeBlobs } from "./git.ts";
import type { PlanFs } from "./kustomize.ts";
import {
  type LoadOptions,
  type LoadResult,
  type ManifestPlan,
  manifestPlan,
  type PlannedUnit,
  planManifests,
} from "./manifests.ts";
import type { ParseStore, WorkTreeView } from "./plan-fs.ts";
import { type UnitInputs, unitInputs } from "./units.ts";

/** Bumped when what the file holds, or how a plan is made from the tree, changes. */
export const PLAN_CACHE_FORMAT = "platform-plan/1";

/** A plan as stored: its key, the units (without their trees), the planning rows, and each unit's inputs. */
export interface StoredPlan {
  key: string;
  units: PlannedUnit[];
  planned: LoadResult;
  inputs: Map<string, UnitInputs>;
}

type Parse = Record<string, unknown> | null;

/** The plan cache file, beside the unit cache: a workflow's cache step keeps the folder. */
export function planCacheFile(unitCache: string): string {
  return join(dirname(unitCache), `${basename(unitCache).replace(/\.json$/, "")}.plan`);
}

/** Kustomization parses by blob id, and the last plan; written back when this run changed them. */
export class PlanCache implements ParseStore {
  readonly file: string | undefined;
  private readonly build: string;
  /** The stored parses and plan, decoded when first asked for (a run that reuses the plan parses nothing). */
  private readonly body: Body | undefined;
  private storedParses: Map<string, Parse> | undefined;
  private readonly used = new Map<string, Parse>();
  private plan: StoredPlan | undefined;
  private planChanged = false;
  /** Kustomizations parsed in this run (no stored parse of their bytes). */
  misses = 0;
  private constructor(file: string | undefined, build: string, body?: Body) {
    this.file = file;
    this.build = build;
    this.body = body;
  }

  /** A cache that starts empty and is never written. */
  static memory(): PlanCache {
    return new PlanCache(undefined, buildKey());
  }

  /** Reads the cache file; a missing or unusable one is an empty cache (a debug line says why). */
  static async open(file: string, o: { build?: string; log?: Logger } = {}): Promise<PlanCache> {
    const build = o.build ?? buildKey();
    const bytes = await readFile(file).catch(() => undefined);
    const body = bytes ? openBody(bytes, build) : undefined;
    if (bytes && !body)
      o.log?.debug(`plan cache ${file}: damaged, or of another format or build; planning afresh`);
    return new PlanCache(file, build, body);
  }

  private get stored(): Map<string, Parse> {
    this.storedParses ??= (this.body && decodeParses(this.body.parses)) ?? new Map();
    return this.storedParses;
  }

  get(id: string): Parse | undefined {
    const hit = this.used.get(id) ?? this.stored.get(id);
    if (hit !== undefined) this.used.set(id, hit);
    return hit;
  }

  set(id: string, value: Parse): void {
    this.misses++;
    this.used.set(id, value);
  }

  /** The stored plan when it was made of exactly this tree, inputs and code. */
  planFor(key: string): StoredPlan | undefined {
    if (this.plan) return this.plan.key === key ? this.plan : undefined;
    const b = this.body;
    if (!b?.plan || b.planKey !== key) return undefined;
    this.plan = decodePlan(key, b.plan);
    return this.plan;
  }

  setPlan(p: StoredPlan): void {
    this.plan = p;
    this.planChanged = true;
  }

  /**
   * Writes the plan and the parses this run used (those of kustomizations gone are dropped), when either
   * changed. The parses of a run that reused the plan are the stored ones.
   */
  async save(): Promise<void> {
    if (!this.file || (!this.planChanged && this.misses === 0)) return;
    const parses = this.planChanged ? this.used : new Map([...this.stored, ...this.used]);
    const plan = this.plan ?? (this.body?.planKey ? this.planFor(this.body.planKey) : undefined);
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, encode(parses, plan, this.build), { input: "cache" });
  }
}

/**
 * The plan of `opts`: the stored one when its key matches the tree (see the header), else made from `view`
 * (git's listing) or the disk, with each unit's inputs; a new plan is kept in `cache` for the next run.
 */
export async function planWithCache(
  opts: LoadOptions,
  blobs: WorkTreeBlobs,
  view: WorkTreeView | undefined,
  cache: PlanCache,
): Promise<{ plan: ManifestPlan; inputs: Map<string, UnitInputs>; fs?: PlanFs; reused: boolean }> {
  const key =
    view && !opts.inputs.some((i) => isDynamicPattern(i))
      ? await view.planKey(JSON.stringify([PLAN_CACHE_FORMAT, view.root, opts.inputs, opts.render]))
      : undefined;
  const hit = key ? cache.planFor(key) : undefined;
  if (hit && view)
    return { plan: manifestPlan(opts, view.root, hit.units, hit.planned), inputs: hit.inputs, reused: true };
  const fs = view?.fs(cache);
  const plan = await planManifests(opts, fs);
  const inputs = new Map<string, UnitInputs>();
  await mapLimit(plan.units, 16, async (u) => {
    inputs.set(u.path, await unitInputs(plan.root, u, blobs, fs));
  });
  if (key && plan.root === view?.root)
    cache.setPlan({
      key,
      units: plan.units.map(({ tree: _, ...u }) => u),
      planned: plan.planned,
      inputs,
    });
  return { plan, inputs, ...(fs ? { fs } : {}), reused: false };
}

// The file: sha256 of the body, then the body (v8 serialisation: a parse keeps bigint integers as they
// are). The parses and the plan are serialised apart, so a run decodes only what it uses. A plan's unit
// inputs name the same base files thousands of times: paths are stored once, inputs as typed arrays of
// indexes (a typed array deserialises as one copy).
interface Body {
  format: string;
  build: string;
  parses: Uint8Array;
  planKey?: string;
  plan?: Uint8Array;
}

interface PlanBody {
  /** Every path, NUL-separated. */
  paths: string;
  /** Per unit: its path, real path (indexes), kind (y, k, h) and whether a walk found it (1). */
  unitPaths: Uint32Array;
  unitAbs: Uint32Array;
  kinds: string;
  walked: Uint8Array;
  /** Per unit, the end of its files (and of its kustomization files) in `files` (`kustomizations`). */
  fileEnds: Uint32Array;
  files: Uint32Array;
  kustomizationEnds: Uint32Array;
  kustomizations: Uint32Array;
  /** Units with directory inputs or plugins: [unit index, dirs, plugins]. */
  extras: Array<[number, string[], string[]]>;
  planned: LoadResult;
}

const KIND_CODES = { yaml: "y", kustomize: "k", helm: "h" } as const;
const KINDS_BY_CODE: Record<string, PlannedUnit["kind"]> = { y: "yaml", k: "kustomize", h: "helm" };

function encode(parses: Map<string, Parse>, plan: StoredPlan | undefined, build: string): Uint8Array {
  const body: Body = { format: PLAN_CACHE_FORMAT, build, parses: serialize([...parses]) };
  if (plan) {
    const index = new Map<string, number>();
    const at = (p: string) => {
      let i = index.get(p);
      if (i === undefined) {
        i = index.size;
        index.set(p, i);
      }
      return i;
    };
    const files: number[] = [];
    const kusts: number[] = [];
    const fileEnds: number[] = [];
    const kustEnds: number[] = [];
    const extras: PlanBody["extras"] = [];
    plan.units.forEach((u, i) => {
      const x = plan.inputs.get(u.path);
      for (const f of x?.files ?? []) files.push(at(f));
      for (const k of x?.kustomizations ?? []) kusts.push(at(k));
      fileEnds.push(files.length);
      kustEnds.push(kusts.length);
      if (x && (x.dirs.length > 0 || x.plugins.length > 0)) extras.push([i, x.dirs, x.plugins]);
    });
    const p: PlanBody = {
      paths: "",
      unitPaths: Uint32Array.from(plan.units, (u) => at(u.path)),
      unitAbs: Uint32Array.from(plan.units, (u) => at(u.abs)),
      kinds: plan.units.map((u) => KIND_CODES[u.kind]).join(""),
      walked: Uint8Array.from(plan.units, (u) => (u.walked ? 1 : 0)),
      fileEnds: Uint32Array.from(fileEnds),
      files: Uint32Array.from(files),
      kustomizationEnds: Uint32Array.from(kustEnds),
      kustomizations: Uint32Array.from(kusts),
      extras,
      planned: plan.planned,
    };
    p.paths = [...index.keys()].join("\0");
    body.planKey = plan.key;
    body.plan = serialize(p);
  }
  const bytes = serialize(body);
  return Buffer.concat([createHash("sha256").update(bytes).digest(), bytes]);
}

/** v8 deserialisation that answers undefined for bytes it cannot read. */
function undeserialize(bytes: Uint8Array): unknown {
  try {
    return deserialize(bytes);
  } catch {
    return undefined;
  }
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** The file's body when its checksum, format and build are right. */
function openBody(bytes: Uint8Array, build: string): Body | undefined {
  if (bytes.length < 33) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = buf.subarray(32);
  if (!createHash("sha256").update(data).digest().equals(buf.subarray(0, 32))) return undefined;
  const b = undeserialize(data) as Body | undefined;
  if (!b || b.format !== PLAN_CACHE_FORMAT || b.build !== build || !(b.parses instanceof Uint8Array))
    return undefined;
  if (b.plan !== undefined && !(b.plan instanceof Uint8Array && typeof b.planKey === "string"))
    return undefined;
  return b;
}

function decodeParses(bytes: Uint8Array): Map<string, Parse> | undefined {
  const entries = undeserialize(bytes);
  if (!Array.isArray(entries)) return undefined;
  const parses = new Map<string, Parse>();
  for (const e of entries) {
    if (!Array.isArray(e) || typeof e[0] !== "string" || !/^[0-9a-f]{40,64}$/.test(e[0])) return undefined;
    const v = e[1];
    if (v !== null && (typeof v !== "object" || Array.isArray(v))) return undefined;
    parses.set(e[0], v);
  }
  return parses;
}

/** The stored plan, or undefined when any part of it is not what encode writes. */
function decodePlan(key: string, bytes: Uint8Array): StoredPlan | undefined {
  const p = undeserialize(bytes) as PlanBody | undefined;
  const u32 = (v: unknown): v is Uint32Array => v instanceof Uint32Array;
  if (
    !p ||
    typeof p.paths !== "string" ||
    typeof p.kinds !== "string" ||
    ![p.unitPaths, p.unitAbs, p.fileEnds, p.files, p.kustomizationEnds, p.kustomizations].every(u32) ||
    !(p.walked instanceof Uint8Array) ||
    !Array.isArray(p.extras) ||
    !p.planned ||
    typeof p.planned !== "object"
  )
    return undefined;
  const paths = p.paths.split("\0");
  const n = p.unitPaths.length;
  if (
    [p.unitAbs, p.fileEnds, p.kustomizationEnds, p.walked].some((a) => a.length !== n) ||
    p.kinds.length !== n
  )
    return undefined;
  const inRange = (a: Uint32Array) => a.every((i) => i < paths.length);
  if (![p.unitPaths, p.unitAbs, p.files, p.kustomizations].every(inRange)) return undefined;
  const ordered = (ends: Uint32Array, total: number) =>
    ends.every((e, i) => e >= (i === 0 ? 0 : ends[i - 1]!)) && (n === 0 || ends[n - 1] === total);
  if (!ordered(p.fileEnds, p.files.length) || !ordered(p.kustomizationEnds, p.kustomizations.length))
    return undefined;
  const extras = new Map<number, [string[], string[]]>();
  for (const e of p.extras) {
    if (!Array.isArray(e) || typeof e[0] !== "number" || !isStrings(e[1]) || !isStrings(e[2]))
      return undefined;
    extras.set(e[0], [e[1], e[2]]);
  }
  const units: PlannedUnit[] = [];
  const inputs = new Map<string, UnitInputs>();
  const pick = (a: Uint32Array, from: number, to: number) => {
    const out: string[] = new Array(to - from);
    for (let i = from; i < to; i++) out[i - from] = paths[a[i]!]!;
    return out;
  };
  for (let i = 0; i < n; i++) {
    const kind = KINDS_BY_CODE[p.kinds[i]!];
    if (!kind) return undefined;
    const path = paths[p.unitPaths[i]!]!;
    units.push({ path, abs: paths[p.unitAbs[i]!]!, kind, ...(p.walked[i] ? { walked: true } : {}) });
    const [dirs, plugins] = extras.get(i) ?? [[], []];
    inputs.set(path, {
      files: pick(p.files, i === 0 ? 0 : p.fileEnds[i - 1]!, p.fileEnds[i]!),
      dirs,
      kustomizations: pick(
        p.kustomizations,
        i === 0 ? 0 : p.kustomizationEnds[i - 1]!,
        p.kustomizationEnds[i]!,
      ),
      plugins,
    });
  }
  return { key, units, planned: p.planned, inputs };
}

let cachedBuildKey: string | undefined;

/**
 * What identifies the code that plans: the bundle's files (a chunk by its name, which esbuild derives from
 * its content; any other file by its bytes), or run from source, the planning sources' bytes.
 */
export function buildKey(moduleUrl: string = import.meta.url): string {
  if (cachedBuildKey && moduleUrl === import.meta.url) return cachedBuildKey;
  const h = createHash("sha256").update(`${PLAN_CACHE_FORMAT}\0`);
  const here = fileURLToPath(moduleUrl);
  if (here.endsWith(".js")) {
    const top = basename(dirname(here)) === "chunks" ? dirname(dirname(here)) : dirname(here);
    for (const dir of [top, join(top, "chunks")]) {
      let names: string[] = [];
      try {
        names = readdirSync(dir)
          .filter((n) => n.endsWith(".js"))
          .sort();
      } catch {}
      for (const n of names) {
        const p = join(dir, n);
        if (/-[A-Z0-9]{8}\.js$/.test(n)) h.update(`${n}\0${statSync(p).size}\n`);
        else h.update(`${n}\0`).update(readFileSync(p)).update("\n");
      }
    }
  } else {
    const src = dirname(here);
    const core = dirname(fileURLToPath(import.meta.resolve("@platform/core")));
    const files = ["plan-cache.ts", "plan-fs.ts", "kustomize.ts", "manifests.ts", "units.ts", "git.ts"];
    for (const p of [...files.map((f) => join(src, f)), join(core, "yaml.ts")])
      h.update(`${basename(p)}\0`)
        .update(readFileSync(p))
        .update("\n");
  }
  const key = h.digest("hex");
  if (moduleUrl === import.meta.url) cachedBuildKey = key;
  return key;
}
