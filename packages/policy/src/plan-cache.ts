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
  private readonly stored: Map<string, Parse>;
  private readonly used = new Map<string, Parse>();
  private plan: StoredPlan | undefined;
  private planChanged = false;
  /** Kustomizations parsed in this run (no stored parse of their bytes). */
  misses = 0;
  private constructor(
    file: string | undefined,
    build: string,
    stored: Map<string, Parse>,
    plan?: StoredPlan,
  ) {
    this.file = file;
    this.build = build;
    this.stored = stored;
    this.plan = plan;
  }

  /** A cache that starts empty and is never written. */
  static memory(): PlanCache {
    return new PlanCache(undefined, buildKey(), new Map());
  }

  /** Reads the cache file; a missing or unusable one is an empty cache (a debug line says why). */
  static async open(file: string, o: { build?: string; log?: Logger } = {}): Promise<PlanCache> {
    const build = o.build ?? buildKey();
    const bytes = await readFile(file).catch(() => undefined);
    const got = bytes ? decode(bytes, build) : undefined;
    if (bytes && !got)
      o.log?.debug(`plan cache ${file}: damaged, or of another format or build; planning afresh`);
    return new PlanCache(file, build, got?.parses ?? new Map(), got?.plan);
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
    return this.plan?.key === key ? this.plan : undefined;
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
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, encode(parses, this.plan, this.build), { input: "cache" });
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

// The file: sha256 of the body, then the body (v8 serialisation: a parse keeps bigint integers as they are).
// Unit inputs name the same base files thousands of times: paths are stored once, inputs as indexes.
interface Body {
  format: string;
  build: string;
  parses: Array<[string, Parse]>;
  plan?: {
    key: string;
    units: PlannedUnit[];
    planned: LoadResult;
    paths: string[];
    inputs: Array<[string, number[], string[], number[], string[]]>;
  };
}

function encode(parses: Map<string, Parse>, plan: StoredPlan | undefined, build: string): Uint8Array {
  const body: Body = { format: PLAN_CACHE_FORMAT, build, parses: [...parses] };
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
    const inputs = [...plan.inputs].map(
      ([u, x]) =>
        [u, x.files.map(at), x.dirs, x.kustomizations.map(at), x.plugins] as [
          string,
          number[],
          string[],
          number[],
          string[],
        ],
    );
    body.plan = { key: plan.key, units: plan.units, planned: plan.planned, paths: [...index.keys()], inputs };
  }
  const bytes = serialize(body);
  return Buffer.concat([createHash("sha256").update(bytes).digest(), bytes]);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

function decode(
  bytes: Uint8Array,
  build: string,
): { parses: Map<string, Parse>; plan?: StoredPlan } | undefined {
  if (bytes.length < 33) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = buf.subarray(32);
  if (!createHash("sha256").update(data).digest().equals(buf.subarray(0, 32))) return undefined;
  let b: Body;
  try {
    b = deserialize(data) as Body;
  } catch {
    return undefined;
  }
  if (!b || b.format !== PLAN_CACHE_FORMAT || b.build !== build || !Array.isArray(b.parses)) return undefined;
  const parses = new Map<string, Parse>();
  for (const e of b.parses) {
    if (!Array.isArray(e) || typeof e[0] !== "string" || !/^[0-9a-f]{40,64}$/.test(e[0])) return undefined;
    const v = e[1];
    if (v !== null && (typeof v !== "object" || Array.isArray(v))) return undefined;
    parses.set(e[0], v);
  }
  if (!b.plan) return { parses };
  const p = b.plan;
  if (typeof p.key !== "string" || !isStrings(p.paths) || !Array.isArray(p.units) || !Array.isArray(p.inputs))
    return undefined;
  const path = (i: unknown) => {
    const s = typeof i === "number" ? p.paths[i] : undefined;
    if (s === undefined) throw new Error("bad path index");
    return s;
  };
  const inputs = new Map<string, UnitInputs>();
  try {
    for (const [u, files, dirs, kustomizations, plugins] of p.inputs) {
      if (typeof u !== "string" || !isStrings(dirs) || !isStrings(plugins)) return undefined;
      inputs.set(u, { files: files.map(path), dirs, kustomizations: kustomizations.map(path), plugins });
    }
  } catch {
    return undefined;
  }
  const units = p.units;
  if (!units.every((u) => typeof u?.path === "string" && typeof u.abs === "string" && inputs.has(u.path)))
    return undefined;
  return { parses, plan: { key: p.key, units, planned: p.planned, inputs } };
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
