// What each render unit reads, a digest of those bytes, and the cross-render facts its objects give other
// renders' verdicts (Namespaces for namespaceSelector/namespaceObject, ServiceAccounts for the workload
// identity and token rules). A cache of these per unit, written by a previous run, lets a changed-only or
// sharded check judge part of a repository against the context of all of it without rendering all of it.
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { errorMessage, type Logger, writeFileAtomic } from "@platform/core";
import { z } from "zod";
import { secretCredentialValues } from "./builtin/render.ts";
import type { WorkTreeBlobs } from "./git.ts";
import { diskFs, kustomizeTree, newTreeCache, type PlanFs } from "./kustomize.ts";
import type { LoadResult, PlannedUnit } from "./manifests.ts";
import { podTarget } from "./podspec.ts";
import type { KubeObject, LoadedObject } from "./types.ts";

// Kinds whose objects other renders' verdicts read whole: namespaceSelector/namespaceObject (Namespace), the
// workload identity and token rules (ServiceAccount), and the render facts of builtin/render.ts (quotas,
// namespace-wide mesh and network policies).
const WHOLE = new Set([
  "v1/Namespace",
  "v1/ServiceAccount",
  "v1/ResourceQuota",
  "networking.k8s.io/v1/NetworkPolicy",
]);
const WHOLE_GROUPS: Array<[RegExp, string]> = [
  [/^security\.istio\.io\//, "PeerAuthentication"],
  [/^security\.istio\.io\//, "AuthorizationPolicy"],
  [/^cilium\.io\//, "CiliumNetworkPolicy"],
];

/**
 * The part of an object other renders' verdicts can read, or undefined: whole context kinds; a workload as a
 * stub (the render facts list a namespace's workloads by kind and name); a Secret holding credential-looking
 * values as its facts (`credentials`), which must never be cached as context (it is not the Secret).
 */
export function contextProjection(o: KubeObject): KubeObject | undefined {
  const id = `${o.apiVersion}/${o.kind}`;
  if (WHOLE.has(id) || WHOLE_GROUPS.some(([g, k]) => g.test(o.apiVersion) && o.kind === k)) return o;
  const meta = {
    name: o.metadata.name,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  };
  const pod = podTarget(o);
  if (pod) {
    const stub: Record<string, unknown> = { apiVersion: o.apiVersion, kind: o.kind, metadata: meta };
    let node = stub;
    for (const k of pod.specPath.slice(0, -1)) {
      const child: Record<string, unknown> = {};
      node[k] = child;
      node = child;
    }
    node.spec = {};
    return stub as KubeObject;
  }
  if (id === "v1/Secret") {
    const credentials = secretCredentialValues(o);
    if (credentials.length > 0) return { apiVersion: "v1", kind: "Secret", metadata: meta, credentials };
  }
  return undefined;
}

/** A projection that stands for facts, not the object: it may be compared, never used as context. */
export function isFactsOnly(o: KubeObject): boolean {
  return o.kind === "Secret" && "credentials" in o;
}

/** The namespace a context object speaks for: a Namespace for itself, anything else for its own. */
export function contextNamespace(o: KubeObject): string {
  return o.kind === "Namespace" && o.apiVersion === "v1"
    ? (o.metadata.name ?? "")
    : (o.metadata.namespace ?? "");
}

// The kinds a context projection comes from, as a file would spell them.
const CONTEXT_KINDS = [
  ...["Namespace", "ServiceAccount", "ResourceQuota", "NetworkPolicy", "CiliumNetworkPolicy", "Secret"],
  ...["PeerAuthentication", "AuthorizationPolicy", "Pod", "PodTemplate", "Deployment", "StatefulSet"],
  ...["DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Rollout"],
].join("|");
// A file that could yield a context object: one of the kinds written out, or a templated kind.
const CONTEXT_TEXT = new RegExp(
  `(^|\\n)\\s*-?\\s*kind:\\s*["']?(${CONTEXT_KINDS})["']?\\s*(#|\\n|$)|"kind"\\s*:\\s*"(${CONTEXT_KINDS})"|kind:\\s*["']?\\{\\{`,
);

/** Whether a source file may define context objects (false only when it provably cannot). */
export function mayDefineContext(text: string | undefined): boolean {
  if (text === undefined) return false;
  // Binary (a packaged subchart): unknown, so yes.
  if (text.includes("\0")) return true;
  return CONTEXT_TEXT.test(text);
}

/** A context projection and where its object came from (the full render's order depends on it). */
export interface ContextEntry {
  file: string;
  line: number;
  via?: string;
  obj: KubeObject;
}

/** One unit's record in the cache: what its inputs hashed to, and what its render gave. */
export interface UnitRecord {
  kind: PlannedUnit["kind"];
  digest: string;
  objects: number;
  /** Namespaces of its objects (a Namespace counts for the namespace it is). */
  namespaces: string[];
  /** Context projections of its objects (what other renders' verdicts read), with their source. */
  context: ContextEntry[];
  /** It holds context that cannot be cached (a Secret with credential-looking values): render it instead. */
  opaque?: boolean;
  /**
   * The record this one replaced, when the unit's bytes changed (one level): a changed-only run that updates
   * the cache keeps the merge base's record, so the next run on the same branch still finds it.
   */
  previous?: Omit<UnitRecord, "previous">;
}

/** The cached record of a unit for exactly these bytes (never an opaque one), or undefined. */
export function recordFor(
  cache: UnitCache | undefined,
  path: string,
  digest: string | undefined,
): Omit<UnitRecord, "previous"> | undefined {
  const r = cache?.get(path);
  if (!r || digest === undefined) return undefined;
  const hit = r.digest === digest ? r : r.previous?.digest === digest ? r.previous : undefined;
  return hit && !hit.opaque ? hit : undefined;
}

/** A new record for a unit, keeping the one it replaces as `previous` when the bytes differ. */
export function replaceRecord(next: UnitRecord, old: UnitRecord | undefined): UnitRecord {
  if (!old || old.digest === next.digest) return old?.previous ? { ...next, previous: old.previous } : next;
  const { previous: _, ...prev } = old;
  return { ...next, previous: prev };
}

const BaseRecordSchema = z.object({
  kind: z.enum(["yaml", "kustomize", "helm"]),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  objects: z.number().int().nonnegative(),
  namespaces: z.array(z.string()),
  opaque: z.boolean().optional(),
  context: z.array(
    z.object({
      file: z.string(),
      line: z.number().int(),
      via: z.string().optional(),
      obj: z
        .object({ apiVersion: z.string(), kind: z.string(), metadata: z.object({}).passthrough() })
        .passthrough(),
    }),
  ),
});
const RecordSchema = BaseRecordSchema.extend({ previous: BaseRecordSchema.optional() });
const CacheSchema = z.object({ version: z.literal(1), units: z.record(z.string(), RecordSchema) });

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const onlyKeys = (v: Record<string, unknown>, keys: ReadonlySet<string>) =>
  Object.keys(v).every((k) => keys.has(k));
const RECORD_KEYS = new Set(["kind", "digest", "objects", "namespaces", "opaque", "context", "previous"]);
const ENTRY_KEYS = new Set(["file", "line", "via", "obj"]);
const KINDS = new Set(["yaml", "kustomize", "helm"]);
const DIGEST = /^[0-9a-f]{64}$/;

/** Whether a record is exactly of RecordSchema's shape, with nothing it would strip (`previous` one deep). */
function isRecordShape(r: unknown, nested: boolean): boolean {
  if (!isObject(r) || !onlyKeys(r, RECORD_KEYS)) return false;
  const { kind, digest, objects, namespaces, opaque, context, previous } = r;
  if (typeof kind !== "string" || !KINDS.has(kind) || typeof digest !== "string" || !DIGEST.test(digest))
    return false;
  if (!Number.isSafeInteger(objects) || (objects as number) < 0) return false;
  if (!Array.isArray(namespaces) || !namespaces.every((n) => typeof n === "string")) return false;
  if (opaque !== undefined && typeof opaque !== "boolean") return false;
  if (previous !== undefined && (nested || !isRecordShape(previous, true))) return false;
  return (
    Array.isArray(context) &&
    context.every(
      (e) =>
        isObject(e) &&
        onlyKeys(e, ENTRY_KEYS) &&
        typeof e.file === "string" &&
        Number.isSafeInteger(e.line) &&
        (e.via === undefined || typeof e.via === "string") &&
        isObject(e.obj) &&
        typeof e.obj.apiVersion === "string" &&
        typeof e.obj.kind === "string" &&
        isObject(e.obj.metadata),
    )
  );
}

/** Whether parsed JSON is a cache file CacheSchema accepts unchanged (a fast path; the schema decides the rest). */
function isCacheShape(v: unknown): v is z.infer<typeof CacheSchema> {
  return (
    isObject(v) &&
    onlyKeys(v, new Set(["version", "units"])) &&
    v.version === 1 &&
    isObject(v.units) &&
    Object.values(v.units).every((r) => isRecordShape(r, false))
  );
}

/** The per-unit cache file (`--cache`): unit path → record. */
export type UnitCache = Map<string, UnitRecord>;

/**
 * Reads a cache file. A missing, unreadable or malformed one is no cache at all (a note in the log): the
 * cache only saves work, every entry is used only when its digest matches the unit's current bytes.
 */
export async function readUnitCache(file: string, log?: Logger): Promise<UnitCache | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const json: unknown = JSON.parse(text);
    // The schema's parse copies every object (~80 ms for 3,000 renders): a file that already has exactly its
    // shape is taken as it is; anything else goes through the schema, which strips or refuses.
    const parsed = isCacheShape(json) ? json : CacheSchema.parse(json);
    return new Map(Object.entries(parsed.units) as Array<[string, UnitRecord]>);
  } catch (err) {
    log?.warn(`ignoring the unit cache ${file}: ${errorMessage(err).split("\n")[0]}`);
    return undefined;
  }
}

/** Writes a cache file atomically, units in path order (stable bytes for the same content). */
export async function writeUnitCache(file: string, cache: UnitCache): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  // Code-point order: stable, and no collation cost for thousands of keys.
  const units = Object.fromEntries([...cache].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeFileAtomic(file, `${JSON.stringify({ version: 1, units })}\n`, { input: "cache" });
}

/** Workspace-relative files a unit reads, plus directories any file under which it reads. */
export interface UnitInputs {
  files: string[];
  dirs: string[];
  /** Kustomization files of the tree (a change to one may change what the tree reads). */
  kustomizations: string[];
  /** Kustomization files that run plugins: they may read files nobody declares. */
  plugins: string[];
}

const posix = (root: string, abs: string) => relative(root, abs).split(sep).join("/") || ".";

async function filesUnder(root: string, dir: string, fs: PlanFs): Promise<string[]> {
  return (await fs.filesUnder(dir)).map((f) => posix(root, f)).sort();
}

/**
 * What one unit reads (kustomize: its whole tree; helm: the chart directory; yaml: the file), asking `fs`
 * (the plan's) what exists.
 */
export async function unitInputs(
  root: string,
  unit: PlannedUnit,
  blobs: WorkTreeBlobs,
  fs: PlanFs = diskFs,
): Promise<UnitInputs> {
  if (unit.kind === "yaml") return { files: [unit.path], dirs: [], kustomizations: [], plugins: [] };
  if (unit.kind === "helm")
    return {
      files: await filesUnder(root, unit.abs, fs),
      dirs: [unit.path],
      kustomizations: [],
      plugins: [],
    };
  unit.tree ??= await kustomizeTree(unit.abs, root, newTreeCache(fs));
  const tree = unit.tree;
  const files = new Set<string>();
  const kustomizations: string[] = [];
  for (const abs of tree.reads) {
    const p = posix(root, abs);
    if (p.startsWith("../")) continue;
    files.add(p);
    if (/(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(p)) kustomizations.push(p);
  }
  const dirs = [...tree.chartHomes].map((h) => posix(root, h)).filter((p) => !p.startsWith("../"));
  for (const d of dirs) for (const f of await filesUnder(root, join(root, d), fs)) files.add(f);
  // Names in `reads` that are directories or do not exist hash as absent: keep only real files.
  const existing: string[] = [];
  for (const f of [...files].sort()) if ((await blobs.id(f)) !== undefined) existing.push(f);
  return {
    files: existing,
    dirs,
    kustomizations: kustomizations.sort(),
    plugins: tree.plugins.map((f) => posix(root, f)),
  };
}

/** sha256 over (path, blob id) of a unit's files: equal digests, equal render. */
export async function unitDigest(
  files: string[],
  blobOf: (path: string) => Promise<string | undefined> | string | undefined,
  salt = "",
): Promise<string> {
  let text = `${salt}\n`;
  for (const f of files) {
    const id = blobOf(f);
    text += `${f}\0${(id instanceof Promise ? await id : id) ?? "-"}\n`;
  }
  return createHash("sha256").update(text).digest("hex");
}

/** Which unit an object or result row belongs to: the render that produced it, else its file. */
export function unitOf(o: { via?: string; file: string }): string {
  return o.via ?? o.file;
}

/** Cache records for rendered units, from their objects. */
export function recordsFor(
  units: ReadonlyArray<PlannedUnit>,
  loaded: LoadResult,
  digests: Map<string, string>,
): Map<string, UnitRecord> {
  const byUnit = new Map<string, LoadedObject[]>();
  for (const o of loaded.objects) {
    const u = unitOf({ via: o.source.via, file: o.source.file });
    const list = byUnit.get(u) ?? [];
    list.push(o);
    byUnit.set(u, list);
  }
  const out = new Map<string, UnitRecord>();
  for (const u of units) {
    const digest = digests.get(u.path);
    if (!digest) continue;
    const objs = byUnit.get(u.path) ?? [];
    const projected = objs.flatMap((o) => {
      const obj = contextProjection(o.obj);
      if (!obj) return [];
      const { file, line, via } = o.source;
      return [{ file, line, ...(via ? { via } : {}), obj }];
    });
    const opaque = projected.some((p) => isFactsOnly(p.obj));
    out.set(u.path, {
      kind: u.kind,
      digest,
      objects: objs.length,
      namespaces: [...new Set(objs.map((o) => contextNamespace(o.obj)))].sort(),
      context: projected.filter((p) => !isFactsOnly(p.obj)),
      ...(opaque ? { opaque } : {}),
    });
  }
  return out;
}
