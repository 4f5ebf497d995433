import { execFile } from "node:child_process";
import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import {
  errorMessage,
  type Logger,
  mapLimit,
  PlatformError,
  parseManifestStream,
  parseYamlStream,
  type YamlStream,
} from "@platform/core";
import { glob, isDynamicPattern } from "tinyglobby";
import { decodeResults, listItems } from "./admission/documents.ts";
import {
  diskFs,
  inside,
  KUSTOMIZATION_FILES,
  type KustomizeTree,
  kustomizeTree,
  newTreeCache,
  type PlanFs,
  readKustomization,
} from "./kustomize.ts";
import type { KubeObject, LoadedObject, PolicyResult, SkippedInput } from "./types.ts";

export type RenderMode = "auto" | "none" | "kustomize" | "helm";

export interface LoadOptions {
  /** Files, directories, globs, kustomize dirs or chart dirs, relative to `root`. */
  inputs: string[];
  render: RenderMode;
  /** Helm values files applied to every chart. */
  values?: string[];
  /** Workspace root: inputs resolve against it and nothing outside it is read. */
  root: string;
  /** Paths to the renderer binaries (default: `kustomize` and `helm` on PATH). */
  tools?: { kustomize?: string; helm?: string };
  /** Let kustomizations use remote bases and charts not vendored (default: refused, the render is not run). */
  allowRemoteBases?: boolean;
  /** Kubernetes version helm and kustomize's helm inflator template against (Capabilities.KubeVersion). */
  kubeVersion?: string;
  log?: Logger;
}

/** The Kubernetes version charts are rendered for when neither the input nor platform.yaml names one. */
export const DEFAULT_KUBE_VERSION = "1.32";

export interface LoadResult {
  objects: LoadedObject[];
  /** Inputs that could not be read, parsed or rendered: verdict "error" rows. */
  problems: PolicyResult[];
  /** Rows that judge nothing but must be seen (a custom resource's fields not checked against a schema). */
  notes: PolicyResult[];
  /** What was loaded, for the summary. */
  units: Array<{ path: string; kind: "yaml" | "kustomize" | "helm"; objects: number }>;
  /** Files, documents and directories a walk did not judge, each with the reason (never silently). */
  skipped: SkippedInput[];
}

/** Files of a walked directory that are provably not manifests: kustomize reads them, or helm does. */
const NOT_MANIFESTS = /^(kustomization\.ya?ml|Kustomization|Chart\.ya?ml)$/;
const MANIFEST_FILE = /\.(ya?ml|json)$/i;
const MAX_RENDER_OUTPUT = 256 * 1024 * 1024;

/** One render unit a plan found: a plain YAML file, a kustomize directory or a chart. */
export interface PlannedUnit {
  /** Workspace-relative path, as the summary and `via` show it. */
  path: string;
  /** Real absolute path (file or directory). */
  abs: string;
  kind: "yaml" | "kustomize" | "helm";
  /** The kustomization tree, when the directory walk already read it. */
  tree?: KustomizeTree;
  /** A file found by walking a directory (documents that are not Kubernetes objects are skipped, not errors). */
  walked?: boolean;
}

/** What the inputs expand to before anything renders: the units, plus what planning found wrong or skipped. */
export interface ManifestPlan {
  root: string;
  units: PlannedUnit[];
  /** Problems and skips of the walk itself (in `LoadResult` shape, objects and units empty). */
  planned: LoadResult;
  /** Renders and parses the given units (a subset of `units`, or all of them). */
  render(units: ReadonlyArray<PlannedUnit>): Promise<LoadResult>;
}

/** Expands inputs, renders kustomize dirs and charts with the real tools, and parses every object. */
export async function loadManifests(opts: LoadOptions): Promise<LoadResult> {
  const plan = await planManifests(opts);
  const rendered = await plan.render(plan.units);
  return joinResults(plan.planned, rendered);
}

/** Concatenates load results (planning rows first), keeping the deterministic order. */
export function joinResults(...parts: LoadResult[]): LoadResult {
  const out: LoadResult = { objects: [], problems: [], notes: [], units: [], skipped: [] };
  for (const p of parts) {
    out.objects.push(...p.objects);
    out.problems.push(...p.problems);
    out.notes.push(...p.notes);
    out.units.push(...p.units);
    out.skipped.push(...p.skipped);
  }
  sortResult(out);
  return out;
}

/**
 * Expands the inputs into render units without rendering anything (cheap: file reads only). `fs` answers the
 * plan's questions about the tree (the disk, or git's listing of it: plan-fs.ts); renders read the disk.
 */
export async function planManifests(opts: LoadOptions, fs: PlanFs = diskFs): Promise<ManifestPlan> {
  const root = await realpath(resolve(opts.root));
  const result: LoadResult = { objects: [], problems: [], notes: [], units: [], skipped: [] };
  const units: PlannedUnit[] = [];
  const seen = new Set<string>();

  for (const input of opts.inputs) {
    const paths = isDynamicPattern(input)
      ? await glob(input, { cwd: root, absolute: true, onlyFiles: false, dot: false })
      : [resolve(root, input)];
    if (paths.length === 0) {
      result.problems.push({
        ...inputProblem(
          input,
          `no files match "${input}"`,
          "Check the path: it is resolved against the workspace root.",
        ),
        policy: "input/missing",
      });
      continue;
    }
    for (const p of paths) {
      const abs = await contained(root, p, fs);
      if (!abs) {
        result.problems.push(
          inputProblem(
            input,
            `"${input}" resolves outside the workspace (symlink or ..)`,
            "Only files inside the workspace are read.",
          ),
        );
        continue;
      }
      const st = await fs.stat(abs);
      if (!st) {
        result.problems.push({
          ...inputProblem(
            input,
            `"${input}" does not exist`,
            "Check the `manifests` paths; they are relative to the workspace root.",
          ),
          policy: "input/missing",
        });
        continue;
      }
      if (st === "dir") await planDirectory(abs, root, opts, units, result, seen, fs);
      else if (!seen.has(abs)) {
        seen.add(abs);
        units.push({ path: rel(root, abs), abs, kind: "yaml" });
      }
    }
  }
  sortResult(result);
  return manifestPlan(opts, root, units, result);
}

/** A plan of these units (from planManifests, or as a previous run planned the same tree: plan-cache.ts). */
export function manifestPlan(
  opts: LoadOptions,
  root: string,
  units: PlannedUnit[],
  planned: LoadResult,
): ManifestPlan {
  return {
    root,
    units,
    planned,
    async render(chosen) {
      const out: LoadResult = { objects: [], problems: [], notes: [], units: [], skipped: [] };
      await mapLimit(chosen, 4, (u) =>
        u.kind === "kustomize"
          ? renderKustomize(u.abs, root, opts, out)
          : u.kind === "helm"
            ? renderHelm(u.abs, root, opts, out)
            : loadYamlFile(u.abs, root, out, u.walked === true),
      );
      sortResult(out);
      return out;
    },
  };
}

/** The order of a render's objects: by source file, line, then the render (whatever finished first). */
export function bySource(a: LoadedObject, b: LoadedObject): number {
  return (
    a.source.file.localeCompare(b.source.file) ||
    a.source.line - b.source.line ||
    (a.source.via ?? "").localeCompare(b.source.via ?? "")
  );
}

/** Deterministic order whatever finished first. */
function sortResult(result: LoadResult): void {
  result.objects.sort(bySource);
  result.units.sort((a, b) => a.path.localeCompare(b.path));
  result.skipped.sort((a, b) => a.path.localeCompare(b.path) || (a.line ?? 0) - (b.line ?? 0));
}

async function planDirectory(
  dir: string,
  root: string,
  opts: LoadOptions,
  planned: PlannedUnit[],
  result: LoadResult,
  seen: Set<string>,
  fs: PlanFs,
): Promise<void> {
  const kind = opts.render === "none" ? undefined : await renderKind(dir, opts.render, fs);
  if (kind === "kustomize" || kind === "helm") {
    if (seen.has(dir)) return;
    seen.add(dir);
    planned.push({ path: rel(root, dir), abs: dir, kind });
    return;
  }
  if (opts.render === "kustomize" || opts.render === "helm") {
    result.problems.push(
      inputProblem(
        rel(root, dir),
        `render is "${opts.render}" but ${rel(root, dir)} has no ${opts.render === "helm" ? "Chart.yaml" : "kustomization.yaml"}`,
        "Point `manifests` at the kustomize directory or chart, or use render: auto.",
      ),
    );
    return;
  }
  // A plain directory: walk it. Kustomize dirs inside are rendered as units, except what another
  // kustomization in the tree already includes (rendering both would report every base object twice),
  // Components (they cannot be built on their own) and charts vendored for kustomize's helm inflator.
  const files: string[] = [];
  const units: Array<{ dir: string; kind: "kustomize" | "helm" }> = [];
  await walk(dir, root, opts.render === "none" ? "none" : "auto", files, units, result, fs);
  const trees = new Map<string, KustomizeTree>();
  const shared = newTreeCache(fs);
  const dirs = units.filter((x) => x.kind === "kustomize").map((u) => u.dir);
  const built = await mapLimit(dirs, 16, (d) => kustomizeTree(d, root, shared));
  for (let i = 0; i < dirs.length; i++) trees.set(dirs[i]!, built[i]!);
  const included = new Map<string, string>();
  const usedFiles = new Map<string, { by: string; role: string }>();
  const chartHomes = new Map<string, string>();
  for (const [d, t] of trees) {
    for (const x of t.included) if (x !== d && !included.has(x)) included.set(x, rel(root, d));
    for (const [f, how] of t.files) if (!usedFiles.has(f)) usedFiles.set(f, how);
    for (const h of t.chartHomes) chartHomes.set(h, rel(root, d));
  }
  const underChartHome = (d: string) =>
    [...chartHomes].find(([h]) => d === h || d.startsWith(`${h}${sep}`))?.[1];
  for (const u of units) {
    if (seen.has(u.dir)) continue;
    const display = rel(root, u.dir);
    if (included.has(u.dir)) {
      result.skipped.push({ path: display, reason: `rendered through ${included.get(u.dir)}` });
      continue;
    }
    const home = underChartHome(u.dir);
    if (u.kind === "helm" && home) {
      result.skipped.push({
        path: display,
        reason: `chart vendored for ${home} (helmGlobals.chartHome): rendered only through that kustomization`,
      });
      continue;
    }
    if (u.kind === "kustomize" && (await fs.kustomization(u.dir))?.value.kind === "Component") {
      result.skipped.push({
        path: display,
        reason:
          "kustomize Component that no kustomization here uses: it is rendered only through a kustomization that lists it in `components`",
      });
      continue;
    }
    seen.add(u.dir);
    const tree = trees.get(u.dir);
    planned.push({ path: display, abs: u.dir, kind: u.kind, ...(tree ? { tree } : {}) });
  }
  for (const f of files) {
    if (seen.has(f)) continue;
    const used = usedFiles.get(f);
    if (used) {
      result.skipped.push({
        path: rel(root, f),
        reason:
          used.role === "resource"
            ? `resource of ${rel(root, used.by)}: checked through its render`
            : `read by ${rel(root, used.by)} (a patch or generator input), not an object of its own`,
      });
      continue;
    }
    const home = underChartHome(dirname(f));
    if (home) {
      result.skipped.push({ path: rel(root, f), reason: `inside the chart home of ${home}` });
      continue;
    }
    seen.add(f);
    planned.push({ path: rel(root, f), abs: f, kind: "yaml", walked: true });
  }
}

async function renderKind(
  dir: string,
  mode: RenderMode,
  fs: PlanFs,
): Promise<"kustomize" | "helm" | undefined> {
  const has = async (name: string) => (await fs.stat(join(dir, name))) === "file";
  if (mode !== "helm") for (const k of KUSTOMIZATION_FILES) if (await has(k)) return "kustomize";
  if (mode !== "kustomize" && (await has("Chart.yaml"))) return "helm";
  return undefined;
}

async function walk(
  dir: string,
  root: string,
  mode: "auto" | "none",
  files: string[],
  units: Array<{ dir: string; kind: "kustomize" | "helm" }>,
  result: LoadResult,
  fs: PlanFs,
): Promise<void> {
  const k = await renderKind(dir, "auto", fs);
  if (mode === "auto" && k) {
    units.push({ dir, kind: k });
    // A chart's templates are not plain YAML; a kustomization's files are rendered through it.
    if (k === "helm") return;
  } else if (k === "helm") {
    result.skipped.push({ path: rel(root, dir), reason: "Helm chart, not rendered (render: none)" });
    return;
  }
  const entries = await fs.readdir(dir);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const own: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.type === "symlink") {
      const target = await contained(root, p, fs);
      if (!target) {
        result.skipped.push({ path: rel(root, p), reason: "symlink that leaves the workspace" });
        continue;
      }
      const st = await fs.stat(target);
      if (st === "file" && MANIFEST_FILE.test(e.name) && !NOT_MANIFESTS.test(e.name)) own.push(target);
      continue;
    }
    if (e.type === "dir") await walk(p, root, mode, files, units, result, fs);
    else if (e.type === "file" && MANIFEST_FILE.test(e.name)) {
      if (NOT_MANIFESTS.test(e.name)) {
        if (mode === "none" || k !== "kustomize")
          result.skipped.push({
            path: rel(root, p),
            reason: `${e.name} is read by kustomize or helm, not applied`,
          });
      } else own.push(p);
    }
  }
  // Files of a kustomize dir are judged through its render, not raw.
  if (mode === "auto" && k === "kustomize") return;
  files.push(...own);
}

async function loadYamlFile(file: string, root: string, result: LoadResult, walked: boolean): Promise<void> {
  const display = rel(root, file);
  let text: Uint8Array;
  try {
    // Bytes, not text: invalid UTF-8 is an error as the API server makes it, never a silent U+FFFD.
    text = await readFile(file);
  } catch (err) {
    result.problems.push(
      inputProblem(display, `cannot read ${display}: ${errorMessage(err)}`, "Check file permissions."),
    );
    return;
  }
  const n = await addStream(text, display, result, undefined, walked);
  result.units.push({ path: display, kind: "yaml", objects: n });
}

interface Attribution {
  file: string;
  line: number;
  locate?: LoadedObject["locate"];
}

interface Renderer {
  kind: "kustomize" | "helm";
  /** Source file of a rendered document, by index (helm's `# Source:` comments). */
  sourceFor?: (docIndex: number) => string;
  /** Source of a rendered object (kustomize origin annotations). */
  attribute?: (obj: KubeObject) => Promise<Attribution>;
  /** The kustomization or chart that rendered the objects (names the overlay when bases are shared). */
  via?: string;
}

/** Parses a YAML stream into objects; returns how many objects it added. */
async function addStream(
  text: string | Uint8Array,
  file: string,
  result: LoadResult,
  renderer: Renderer | undefined,
  lenient: boolean,
): Promise<number> {
  let stream: ReturnType<typeof parseYamlStream>;
  try {
    // As the API server decodes it (YAML 1.1 scalars, merge keys, duplicate keys are errors): see yaml-apiserver.ts.
    stream = parseManifestStream(text, file);
  } catch (err) {
    const e = err instanceof PlatformError ? err : undefined;
    result.problems.push(inputProblem(file, errorMessage(err), e?.hint ?? "Fix the file."));
    return 0;
  }
  let count = 0;
  for (const d of stream.docs) {
    const srcFile = renderer?.sourceFor?.(d.index) ?? file;
    const syntax = d.errors[0];
    if (syntax) {
      result.problems.push({
        ...inputProblem(srcFile, `invalid YAML: ${syntax.message}`, "Fix the YAML syntax."),
        line: renderer ? 1 : syntax.line,
        column: renderer ? undefined : syntax.column,
      });
      continue;
    }
    const v = d.value;
    if (v === null || v === undefined) continue;
    for (const { item, path } of listItems(v)) {
      if (!isKubeObject(item)) {
        if (lenient && !renderer && !looksLikeManifest(item)) {
          result.skipped.push({
            path: srcFile,
            line: d.line,
            reason: `document ${d.index + 1} has no apiVersion or kind: not a Kubernetes object`,
          });
          continue;
        }
        result.problems.push({
          ...inputProblem(
            srcFile,
            `document ${d.index + 1} is not a Kubernetes object (it needs apiVersion, kind and metadata.name)`,
            "Remove it from the manifests input, or complete the object.",
          ),
          line: renderer ? 1 : d.line,
        });
        continue;
      }
      count++;
      if (renderer) {
        const at: Attribution = renderer.attribute
          ? await renderer.attribute(item)
          : { file: srcFile, line: 1 };
        result.objects.push({
          obj: item,
          source: {
            file: at.file,
            line: at.line,
            renderer: renderer.kind,
            ...(renderer.via ? { via: renderer.via } : {}),
          },
          locate: at.locate ?? (() => undefined),
        });
        addDecodeResults(
          result,
          decodeResults(item, { ...at, via: renderer.via }, at.locate ?? (() => undefined)),
        );
      } else {
        const base = path;
        const line = stream.position(d, base).line;
        result.objects.push({
          obj: item,
          source: { file, line },
          locate: (p) => stream.position(d, [...base, ...p]),
        });
        addDecodeResults(
          result,
          decodeResults(item, { file, line }, (p) => stream.position(d, [...base, ...p])),
        );
      }
    }
  }
  return count;
}

/** Decode errors are problems; a "not checked" skip row is a note (it must not fail a caller that only loads). */
function addDecodeResults(result: LoadResult, rows: PolicyResult[]): void {
  for (const r of rows) (r.verdict === "error" ? result.problems : result.notes).push(r);
}

function looksLikeManifest(v: unknown): boolean {
  return !!v && typeof v === "object" && ("apiVersion" in v || "kind" in v);
}

function isKubeObject(v: unknown): v is KubeObject {
  if (!v || typeof v !== "object" || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const md = o.metadata as Record<string, unknown> | undefined;
  return (
    typeof o.apiVersion === "string" &&
    typeof o.kind === "string" &&
    !!md &&
    typeof md === "object" &&
    (typeof md.name === "string" || typeof md.generateName === "string")
  );
}

async function renderKustomize(
  dir: string,
  root: string,
  opts: LoadOptions,
  result: LoadResult,
): Promise<void> {
  const display = rel(root, dir);
  const k = await readKustomization(dir);
  const file = k ? rel(root, k.file) : display;
  const key = ["patches", "patchesStrategicMerge", "patchesJson6902"].find((p) => k?.position([p]).exact);
  const patchesAt = { file, line: k && key ? k.position([key]).line : 1 };
  // Everything the tree reads is checked before kustomize runs: kustomize's own load restrictor confines
  // files to each kustomization's directory but lets resources point anywhere, and fetches remote bases.
  const tree = await kustomizeTree(dir, root);
  const refused = tree.refusals.filter((r) => r.why !== "remote" || !opts.allowRemoteBases);
  const why = {
    outside: [
      "resolves outside the workspace",
      "Only files inside the workspace are read; move the base into the repository.",
    ],
    remote: [
      "is a remote base or a chart that is not vendored",
      "Vendor the base or chart into the repository (helmGlobals.chartHome for charts), or set allow-remote-bases: true.",
    ],
    missing: ["does not exist", "Fix the path; it is relative to the kustomization."],
  } as const;
  if (refused.length > 0) {
    for (const r of refused)
      result.problems.push({
        ...inputProblem(
          rel(root, r.file),
          `${display} is not rendered: "${r.ref}" ${why[r.why][0]}`,
          why[r.why][1],
        ),
        line: r.line,
        policy: "input/render",
      });
    return;
  }
  opts.log?.info(`rendering ${display} with kustomize`);
  // Build through a throwaway wrapper that turns on kustomize's origin and transformer annotations, so each
  // finding can point at the base or patch file the object came from, or the kustomization that renamed it.
  const wrapper = await mkdtemp(join(tmpdir(), "platform-kustomize-"));
  let out: string | undefined;
  const args = ["build", wrapper];
  if (tree.usesHelm) {
    args.push(
      "--enable-helm",
      "--helm-command",
      opts.tools?.helm ?? "helm",
      "--helm-kube-version",
      opts.kubeVersion ?? DEFAULT_KUBE_VERSION,
    );
  }
  try {
    await writeFile(
      join(wrapper, "kustomization.yaml"),
      `resources:\n  - ${JSON.stringify(relative(wrapper, dir))}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n`,
    );
    out = await runTool(opts.tools?.kustomize ?? "kustomize", args, root, file, result, (msg) =>
      // Keep the wrapper out of error messages: users should see their own paths.
      msg
        .replace(
          /accumulating resources from '[^']*': '[^']*' must resolve to a file': recursed accumulation of path '[^']*': /g,
          "",
        )
        .split(`${wrapper}${sep}`)
        .join(""),
    );
  } finally {
    await rm(wrapper, { recursive: true, force: true });
  }
  if (out === undefined) return;
  const sources = new Map<string, Promise<YamlStream | undefined>>();
  const ctx: OriginContext = { wrapper, root, patchesAt, cache: sources, tree };
  const n = addStream(
    out,
    file,
    result,
    { kind: "kustomize", attribute: (obj) => originOf(obj, ctx), via: display },
    false,
  );
  result.units.push({ path: display, kind: "kustomize", objects: await n });
}

const ORIGIN = "config.kubernetes.io/origin";
const TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations";

interface OriginContext {
  wrapper: string;
  root: string;
  patchesAt: { file: string; line: number };
  cache: Map<string, Promise<YamlStream | undefined>>;
  tree: KustomizeTree;
}

/** Removes an annotation kustomize added for us and returns its value. */
function takeAnnotation(obj: KubeObject, key: string): string | undefined {
  const annotations = obj.metadata.annotations;
  const v = annotations?.[key];
  if (annotations && v !== undefined) {
    delete annotations[key];
    if (Object.keys(annotations).length === 0) delete obj.metadata.annotations;
  }
  return typeof v === "string" ? v : undefined;
}

/** The name an image entry of kustomize's `images:` matches: the reference without tag and digest. */
function imageName(ref: string): string {
  const noDigest = ref.split("@")[0] ?? ref;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

function valueAt(node: unknown, path: ReadonlyArray<string | number>): unknown {
  let cur = node;
  for (const p of path) {
    if (!cur || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/**
 * Maps a rendered object to its source document through kustomize's origin annotation: the file it names,
 * and in it the document of the same kind whose name, with the tree's name prefixes and suffixes applied as
 * the transformer annotation says, is exactly the rendered name. Never by substring.
 */
async function originOf(obj: KubeObject, ctx: OriginContext): Promise<Attribution> {
  const { root, patchesAt } = ctx;
  const fallback = patchesAt.file;
  const origin = takeAnnotation(obj, ORIGIN);
  const transformations = takeAnnotation(obj, TRANSFORMATIONS);
  const m = origin ? /^path: (.+)$/m.exec(origin) : null;
  if (!m || /^repo: /m.test(origin ?? "")) return { file: fallback, line: 1 };
  const abs = await contained(root, resolve(ctx.wrapper, m[1]!.trim()));
  if (!abs) return { file: fallback, line: 1 };
  let pending = ctx.cache.get(abs);
  if (!pending) {
    pending = readFile(abs, "utf8")
      .then((t) => parseYamlStream(t, abs))
      .catch(() => undefined);
    ctx.cache.set(abs, pending);
  }
  const stream = await pending;
  const file = rel(root, abs);
  const name = obj.metadata.name ?? "";
  // Which kustomizations renamed the object or set its images (kustomize lists them innermost first).
  let prefix = "";
  let suffix = "";
  const imageSetters = new Set<string>();
  for (const t of parseTransformations(transformations)) {
    const kfile = resolve(ctx.wrapper, t.configuredIn);
    const names = ctx.tree.names.get(kfile);
    if (t.kind === "PrefixTransformer" && names) prefix = names.prefix + prefix;
    if (t.kind === "SuffixTransformer" && names) suffix += names.suffix;
    if (t.kind === "ImageTagTransformer") imageSetters.add(kfile);
  }
  const sameKind = (stream?.docs ?? []).filter((d) => {
    const v = d.value as KubeObject | null;
    return v?.kind === obj.kind && v.apiVersion === obj.apiVersion;
  });
  const doc =
    sameKind.find((d) => `${prefix}${(d.value as KubeObject).metadata?.name ?? ""}${suffix}` === name) ??
    // A patch may rename too; with one candidate of this kind in the file the origin is still exact.
    (sameKind.length === 1 ? sameKind[0] : undefined);
  if (!stream || !doc) return { file, line: 1 };
  return {
    file,
    line: doc.line,
    locate: (p) => {
      const pos = stream.position(doc, p);
      const last = p[p.length - 1];
      if (pos.exact && last === "image") {
        const before = valueAt(doc.value, p);
        const after = valueAt(obj, p);
        if (typeof before === "string" && before !== after) {
          // kustomize's `images:` changed it: point at the entry that did, outermost kustomization first.
          const entries = ctx.tree.images.filter((e) => e.name === imageName(before));
          const entry = entries.find((e) => imageSetters.has(e.file)) ?? entries[0];
          return entry ? { file: rel(root, entry.file), line: entry.line } : patchesAt;
        }
      }
      // A field the source file lacks was added by an overlay patch: point at the overlay's patches.
      return pos.exact ? pos : patchesAt;
    },
  };
}

function parseTransformations(text: string | undefined): Array<{ configuredIn: string; kind: string }> {
  if (!text) return [];
  try {
    const v = parseYamlStream(text, "transformations").docs[0]?.value;
    if (!Array.isArray(v)) return [];
    return v.flatMap((t) =>
      t && typeof t.configuredIn === "string" && typeof t.configuredBy?.kind === "string"
        ? [{ configuredIn: t.configuredIn as string, kind: t.configuredBy.kind as string }]
        : [],
    );
  } catch {
    return [];
  }
}

async function renderHelm(dir: string, root: string, opts: LoadOptions, result: LoadResult): Promise<void> {
  const display = rel(root, dir);
  const args = ["template", basename(dir), dir, "--kube-version", opts.kubeVersion ?? DEFAULT_KUBE_VERSION];
  for (const v of opts.values ?? []) args.push("--values", resolve(root, v));
  opts.log?.info(`rendering ${display} with helm template`);
  const out = await runTool(
    opts.tools?.helm ?? "helm",
    args,
    root,
    rel(root, join(dir, "Chart.yaml")),
    result,
  );
  if (out === undefined) return;
  // `helm template` marks each document with `# Source: <chart>/templates/<file>`: attribute findings there.
  const sources: string[] = [];
  for (const chunk of out.split(/^---\s*$/m)) {
    if (!/^\s*[^#\s]/m.test(chunk)) continue;
    const m = /^# Source: ([^\n]+)$/m.exec(chunk);
    const inChart = m?.[1]?.split("/").slice(1).join("/");
    sources.push(inChart ? `${display}/${inChart}` : `${display}/Chart.yaml`);
  }
  const n = await addStream(
    out,
    `${display}/Chart.yaml`,
    result,
    { kind: "helm", sourceFor: (i) => sources[i] ?? `${display}/Chart.yaml`, via: display },
    false,
  );
  result.units.push({ path: display, kind: "helm", objects: n });
}

function runTool(
  tool: string,
  args: string[],
  cwd: string,
  file: string,
  result: LoadResult,
  clean: (msg: string) => string = (m) => m,
): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(
      tool,
      args,
      { cwd, maxBuffer: MAX_RENDER_OUTPUT, timeout: 120_000, env: { ...process.env, HELM_NO_PLUGINS: "1" } },
      (err, stdout, stderr) => {
        if (err) {
          const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
          const detail = clean(renderError(stderr || err.message))
            .split(`${cwd}${sep}`)
            .join("");
          const msg = missing
            ? `${basename(tool)} is not installed (needed to render ${file})`
            : `${basename(tool)} failed on ${file}: ${detail}`;
          result.problems.push({
            ...inputProblem(
              file,
              msg,
              missing
                ? `Install ${basename(tool)} on the runner (GitHub's ubuntu images have it), or set render: none.`
                : "Fix the render error; run the same command locally to see it in full.",
            ),
            policy: "input/render",
            ...(missing ? { cause: "environment" as const } : {}),
          });
          done(undefined);
          return;
        }
        done(stdout);
      },
    );
  });
}

const MAX_RENDER_ERROR = 2000;

/**
 * A renderer's error output on one line: the first line, every line that states a cause (helm and kustomize
 * put it after a generic first line) and the last, capped in length.
 */
export function renderError(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^Use --debug flag/i.test(l));
  const keep = lines.filter(
    (l, i) =>
      i === 0 ||
      i === lines.length - 1 ||
      /error|fail|cannot|can't|invalid|not found|no such|denied|incompatible|unable|missing|must/i.test(l),
  );
  const out = [...new Set(keep)].join(" | ");
  return out.length > MAX_RENDER_ERROR
    ? `${out.slice(0, MAX_RENDER_ERROR / 2)} … ${out.slice(-MAX_RENDER_ERROR / 2)}`
    : out;
}

function inputProblem(file: string, message: string, hint: string): PolicyResult {
  return {
    policy: "input/parse",
    kind: "",
    namespace: "",
    name: "",
    verdict: "error",
    message: `${message}. ${hint}`,
    file,
    line: 1,
    severity: "error",
    cause: "input",
  };
}

/** The real path of `p` if it stays inside `root`, else undefined (symlinks out of the workspace are refused). */
async function contained(root: string, p: string, fs: PlanFs = diskFs): Promise<string | undefined> {
  const real = (await fs.realpath(p)) ?? ((await fs.exists(p)) ? undefined : p);
  if (!real) return undefined;
  return inside(root, real) ? real : undefined;
}

function rel(root: string, p: string): string {
  return relative(root, p).split(sep).join("/") || ".";
}
