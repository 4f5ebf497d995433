import { execFile } from "node:child_process";
import { lstat, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { errorMessage, type Logger, PlatformError, parseYamlStream, type YamlStream } from "@platform/core";
import { glob, isDynamicPattern } from "tinyglobby";
import type { KubeObject, LoadedObject, PolicyResult } from "./types.ts";

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
  log?: Logger;
}

export interface LoadResult {
  objects: LoadedObject[];
  /** Inputs that could not be read, parsed or rendered: verdict "error" rows. */
  problems: PolicyResult[];
  /** What was loaded, for the summary. */
  units: Array<{ path: string; kind: "yaml" | "kustomize" | "helm"; objects: number }>;
}

const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
/** YAML that lives beside manifests but is not a Kubernetes object. */
const NOT_MANIFESTS =
  /^(kustomization\.ya?ml|Chart\.ya?ml|values[\w.-]*\.ya?ml|platform\.ya?ml|waivers?\.ya?ml|\.?[\w-]*config\.ya?ml)$/i;
const MAX_RENDER_OUTPUT = 256 * 1024 * 1024;

/** Expands inputs, renders kustomize dirs and charts with the real tools, and parses every object. */
export async function loadManifests(opts: LoadOptions): Promise<LoadResult> {
  const root = await realpath(resolve(opts.root));
  const result: LoadResult = { objects: [], problems: [], units: [] };
  const tasks: Array<() => Promise<void>> = [];
  const seen = new Set<string>();

  for (const input of opts.inputs) {
    const paths = isDynamicPattern(input)
      ? await glob(input, { cwd: root, absolute: true, onlyFiles: false, dot: false })
      : [resolve(root, input)];
    if (paths.length === 0) {
      result.problems.push(
        inputProblem(
          input,
          `no files match "${input}"`,
          "Check the path: it is resolved against the workspace root.",
        ),
      );
      continue;
    }
    for (const p of paths) {
      const abs = await contained(root, p);
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
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(abs);
      } catch {
        result.problems.push(
          inputProblem(
            input,
            `"${input}" does not exist`,
            "Check the `manifests` paths; they are relative to the workspace root.",
          ),
        );
        continue;
      }
      if (st.isDirectory()) await planDirectory(abs, root, opts, tasks, result, seen);
      else if (!seen.has(abs)) {
        seen.add(abs);
        tasks.push(() => loadYamlFile(abs, root, result, false));
      }
    }
  }
  await runLimited(tasks, 4);
  // Deterministic order whatever finished first.
  result.objects.sort((a, b) => a.source.file.localeCompare(b.source.file) || a.source.line - b.source.line);
  result.units.sort((a, b) => a.path.localeCompare(b.path));
  return result;
}

async function planDirectory(
  dir: string,
  root: string,
  opts: LoadOptions,
  tasks: Array<() => Promise<void>>,
  result: LoadResult,
  seen: Set<string>,
): Promise<void> {
  const kind = opts.render === "none" ? undefined : await renderKind(dir, opts.render);
  if (kind === "kustomize" || kind === "helm") {
    if (seen.has(dir)) return;
    seen.add(dir);
    tasks.push(() =>
      kind === "kustomize" ? renderKustomize(dir, root, opts, result) : renderHelm(dir, root, opts, result),
    );
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
  // A plain directory: walk it. Kustomize dirs inside are rendered as units, except bases that another
  // kustomization in the tree already includes (rendering both would report every base object twice).
  const files: string[] = [];
  const units: Array<{ dir: string; kind: "kustomize" | "helm" }> = [];
  await walk(dir, root, opts.render === "none" ? "none" : "auto", files, units);
  const included = new Set<string>();
  for (const u of units.filter((x) => x.kind === "kustomize"))
    for (const d of await kustomizeReferences(u.dir)) included.add(d);
  for (const u of units) {
    if (included.has(u.dir) || seen.has(u.dir)) continue;
    seen.add(u.dir);
    tasks.push(() =>
      u.kind === "kustomize"
        ? renderKustomize(u.dir, root, opts, result)
        : renderHelm(u.dir, root, opts, result),
    );
  }
  for (const f of files) {
    if (seen.has(f)) continue;
    seen.add(f);
    tasks.push(() => loadYamlFile(f, root, result, true));
  }
}

async function renderKind(dir: string, mode: RenderMode): Promise<"kustomize" | "helm" | undefined> {
  const has = async (name: string) => (await stat(join(dir, name)).catch(() => undefined))?.isFile() ?? false;
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
): Promise<void> {
  if (mode === "auto") {
    const k = await renderKind(dir, "auto");
    if (k) {
      units.push({ dir, kind: k });
      // A chart's templates are not plain YAML; a kustomization's files are rendered through it.
      if (k === "helm") return;
    }
  }
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) {
      const target = await contained(root, p);
      if (!target) continue;
      const st = await stat(target);
      if (st.isFile() && /\.ya?ml$/i.test(e.name)) files.push(target);
      continue;
    }
    if (e.isDirectory()) await walk(p, root, mode, files, units);
    else if (e.isFile() && /\.ya?ml$/i.test(e.name) && !NOT_MANIFESTS.test(e.name)) files.push(p);
  }
  if (mode === "auto" && units.some((u) => u.dir === dir && u.kind === "kustomize")) {
    // Files of a kustomize dir are judged through its render, not raw.
    for (let i = files.length - 1; i >= 0; i--) if (dirname(files[i]!) === dir) files.splice(i, 1);
  }
}

/** Directories a kustomization pulls in (resources, bases, components), resolved; remote refs ignored. */
async function kustomizeReferences(dir: string): Promise<string[]> {
  for (const name of KUSTOMIZATION_FILES) {
    const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const stream = parseYamlStream(text, join(dir, name));
    const value = stream.docs[0]?.value as Record<string, unknown> | null;
    const refs = ["resources", "bases", "components"].flatMap((k) =>
      Array.isArray(value?.[k]) ? (value[k] as unknown[]) : [],
    );
    const out: string[] = [];
    for (const r of refs) {
      if (typeof r !== "string" || r.includes("://") || r.startsWith("github.com/")) continue;
      const p = resolve(dir, r);
      if ((await stat(p).catch(() => undefined))?.isDirectory()) out.push(p);
    }
    return out;
  }
  return [];
}

async function loadYamlFile(file: string, root: string, result: LoadResult, walked: boolean): Promise<void> {
  const display = rel(root, file);
  let text: string;
  try {
    text = await readFile(file, "utf8");
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
}

/** Parses a YAML stream into objects; returns how many objects it added. */
async function addStream(
  text: string,
  file: string,
  result: LoadResult,
  renderer: Renderer | undefined,
  lenient: boolean,
): Promise<number> {
  let stream: ReturnType<typeof parseYamlStream>;
  try {
    stream = parseYamlStream(text, file);
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
    const objs = isList(v)
      ? v.items.map((item, i) => ({ item, path: ["items", i] as Array<string | number> }))
      : [{ item: v, path: [] as Array<string | number> }];
    for (const { item, path } of objs) {
      if (!isKubeObject(item)) {
        if (lenient && !renderer && !looksLikeManifest(item)) continue;
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
          source: { file: at.file, line: at.line, renderer: renderer.kind },
          locate: at.locate ?? (() => undefined),
        });
      } else {
        const base = path;
        result.objects.push({
          obj: item,
          source: { file, line: stream.position(d, base).line },
          locate: (p) => stream.position(d, [...base, ...p]),
        });
      }
    }
  }
  return count;
}

function isList(v: unknown): v is { items: unknown[] } {
  const o = v as Record<string, unknown> | null;
  return (
    !!o &&
    typeof o === "object" &&
    typeof o.apiVersion === "string" &&
    typeof o.kind === "string" &&
    o.kind.endsWith("List") &&
    Array.isArray(o.items)
  );
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
  let file = display;
  let patchesAt = { file, line: 1 };
  for (const k of KUSTOMIZATION_FILES) {
    const text = await readFile(join(dir, k), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    file = rel(root, join(dir, k));
    const stream = parseYamlStream(text, file);
    const doc = stream.docs[0];
    const key = ["patches", "patchesStrategicMerge", "patchesJson6902"].find(
      (p) => doc && stream.position(doc, [p]).exact,
    );
    patchesAt = { file, line: doc && key ? stream.position(doc, [key]).line : 1 };
    break;
  }
  opts.log?.info(`rendering ${display} with kustomize`);
  // Build through a throwaway wrapper that turns on kustomize's origin annotations, so each finding can
  // point at the base or patch file the object came from instead of at the overlay's kustomization.
  const wrapper = await mkdtemp(join(tmpdir(), "platform-kustomize-"));
  let out: string | undefined;
  try {
    await writeFile(
      join(wrapper, "kustomization.yaml"),
      `resources:\n  - ${JSON.stringify(relative(wrapper, dir))}\nbuildMetadata: [originAnnotations]\n`,
    );
    out = await runTool(opts.tools?.kustomize ?? "kustomize", ["build", wrapper], root, file, result, (msg) =>
      // Keep the wrapper out of error messages: users should see their own paths.
      msg.replace(
        /accumulating resources from '[^']*': '[^']*' must resolve to a file': recursed accumulation of path '[^']*': /g,
        "",
      ),
    );
  } finally {
    await rm(wrapper, { recursive: true, force: true });
  }
  if (out === undefined) return;
  const sources = new Map<string, Promise<YamlStream | undefined>>();
  const n = addStream(
    out,
    file,
    result,
    { kind: "kustomize", attribute: (obj) => originOf(obj, wrapper, root, patchesAt, sources) },
    false,
  );
  result.units.push({ path: display, kind: "kustomize", objects: await n });
}

const ORIGIN = "config.kubernetes.io/origin";

/** Reads and removes kustomize's origin annotation; maps the object to its source document when local. */
async function originOf(
  obj: KubeObject,
  wrapper: string,
  root: string,
  patchesAt: { file: string; line: number },
  cache: Map<string, Promise<YamlStream | undefined>>,
): Promise<Attribution> {
  const fallback = patchesAt.file;
  const annotations = obj.metadata.annotations;
  const origin = annotations?.[ORIGIN];
  if (annotations && origin !== undefined) {
    delete annotations[ORIGIN];
    if (Object.keys(annotations).length === 0) delete obj.metadata.annotations;
  }
  const m = typeof origin === "string" ? /^path: (.+)$/m.exec(origin) : null;
  if (!m || /^repo: /m.test(origin ?? "")) return { file: fallback, line: 1 };
  const abs = await contained(root, resolve(wrapper, m[1]!.trim()));
  if (!abs) return { file: fallback, line: 1 };
  let pending = cache.get(abs);
  if (!pending) {
    pending = readFile(abs, "utf8")
      .then((t) => parseYamlStream(t, abs))
      .catch(() => undefined);
    cache.set(abs, pending);
  }
  const stream = await pending;
  const file = rel(root, abs);
  const name = obj.metadata.name ?? "";
  const doc = stream?.docs.find((d) => {
    const v = d.value as KubeObject | null;
    return (
      v?.kind === obj.kind &&
      typeof v.metadata?.name === "string" &&
      (v.metadata.name === name || name.includes(v.metadata.name))
    );
  });
  if (!stream || !doc) return { file, line: 1 };
  return {
    file,
    line: doc.line,
    locate: (p) => {
      const pos = stream.position(doc, p);
      // A field the source file lacks was added by an overlay patch: point at the overlay's patches.
      return pos.exact ? pos : patchesAt;
    },
  };
}

async function renderHelm(dir: string, root: string, opts: LoadOptions, result: LoadResult): Promise<void> {
  const display = rel(root, dir);
  const args = ["template", basename(dir), dir];
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
    { kind: "helm", sourceFor: (i) => sources[i] ?? `${display}/Chart.yaml` },
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
          const detail = clean((stderr || err.message).trim().split("\n").slice(0, 6).join(" | "))
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
          });
          done(undefined);
          return;
        }
        done(stdout);
      },
    );
  });
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
  };
}

/** The real path of `p` if it stays inside `root`, else undefined (symlinks out of the workspace are refused). */
async function contained(root: string, p: string): Promise<string | undefined> {
  const real = await realpath(p).catch(async () => ((await lstat(p).catch(() => undefined)) ? undefined : p));
  if (!real) return undefined;
  const r = relative(root, real);
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r)) ? real : undefined;
}

function rel(root: string, p: string): string {
  return relative(root, p).split(sep).join("/") || ".";
}

async function runLimited(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const t = tasks[next++]!;
      await t();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
