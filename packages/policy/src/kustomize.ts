// What a kustomization tree references, read before kustomize runs: the render must not read outside the
// workspace or fetch remote bases, and the directory walk must not judge patches, components or vendored
// charts as if they were objects of their own.
import { realpath as fsRealpath, lstat, readdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { parseYamlStream, type YamlStream } from "@platform/core";

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** A kustomization file, parsed. */
export interface Kustomization {
  dir: string;
  file: string;
  value: Record<string, unknown>;
  /** Where a path of the document is (see YamlStream.position): for messages, never for a decision. */
  position(path: ReadonlyArray<string | number>): ReturnType<YamlStream["position"]>;
}

export type EntryType = "file" | "dir" | "symlink" | "other";

/**
 * The file-system questions planning asks (absolute paths): the disk, or the git index with the work tree's
 * changes on top (plan-fs.ts), which answers them without a system call. Both must answer alike.
 */
export interface PlanFs {
  /** The real path (symlinks resolved), or undefined when it does not exist. */
  realpath(p: string): Promise<string | undefined>;
  /** What `p` is, following symlinks; undefined when it does not exist. */
  stat(p: string): Promise<Exclude<EntryType, "symlink"> | undefined>;
  /** Whether `p` exists as a directory entry (a dangling symlink does). */
  exists(p: string): Promise<boolean>;
  /** The entries of a directory (symlinks not followed); throws when it is not one. */
  readdir(dir: string): Promise<Array<{ name: string; type: EntryType }>>;
  /** Regular files below `dir` at any depth (symlinks not followed), sorted; none when it is no directory. */
  filesUnder(dir: string): Promise<string[]>;
  /** The kustomization of `dir` (see readKustomization). */
  kustomization(dir: string): Promise<Kustomization | undefined>;
}

const typeOf = (e: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryType =>
  e.isSymbolicLink() ? "symlink" : e.isFile() ? "file" : e.isDirectory() ? "dir" : "other";

/** The disk, as it is. */
export const diskFs: PlanFs = {
  realpath: (p) => fsRealpath(p).catch(() => undefined),
  stat: (p) =>
    stat(p).then(
      (st) => (st.isFile() ? "file" : st.isDirectory() ? "dir" : "other"),
      () => undefined,
    ),
  exists: (p) =>
    lstat(p).then(
      () => true,
      () => false,
    ),
  readdir: async (dir) =>
    (await readdir(dir, { withFileTypes: true })).map((e) => ({ name: e.name, type: typeOf(e) })),
  filesUnder: async (dir) => {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
  },
  kustomization: (dir) => readKustomization(dir),
};

/**
 * What every overlay's tree shares in one plan (the same bases): each kustomization is parsed, and each path
 * resolved, once.
 */
export interface TreeCache {
  fs: PlanFs;
  kustomizations: Map<string, Promise<Kustomization | undefined>>;
  realpaths: Map<string, Promise<string | undefined>>;
  stats: Map<string, Promise<Exclude<EntryType, "symlink"> | undefined>>;
}

/** An empty cache for one plan (never kept across runs: the files may change). */
export function newTreeCache(fs: PlanFs = diskFs): TreeCache {
  return { fs, kustomizations: new Map(), realpaths: new Map(), stats: new Map() };
}

function memo<T>(m: Map<string, Promise<T>>, key: string, f: (k: string) => Promise<T>): Promise<T> {
  let p = m.get(key);
  if (!p) {
    p = f(key);
    m.set(key, p);
  }
  return p;
}

/**
 * The kustomization a file's text holds: the first document, when it parses to a mapping (undefined
 * otherwise: the directory counts as having none, and its other kustomization file names are not tried).
 */
export function parseKustomization(
  text: string,
  file: string,
): Omit<Kustomization, "dir" | "file"> | undefined {
  let stream: YamlStream;
  try {
    stream = parseYamlStream(text, file);
  } catch {
    return undefined;
  }
  const doc = stream.docs[0];
  const value = doc?.value;
  if (!doc || !value || typeof value !== "object" || Array.isArray(value)) return undefined;
  return { value: value as Record<string, unknown>, position: (p) => stream.position(doc, p) };
}

/** Reads the kustomization of `dir`, if it has one (undefined when unreadable or not a mapping). */
export async function readKustomization(dir: string): Promise<Kustomization | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const file = join(dir, name);
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const k = parseKustomization(text, file);
    return k ? { dir, file, ...k } : undefined;
  }
  return undefined;
}

/** Everything one kustomization tree references, transitively. */
export interface KustomizeTree {
  /** Kustomization directories in the tree (the root first). */
  dirs: string[];
  /** Directories other kustomizations include (resources, bases, components). */
  included: Set<string>;
  /** Directories holding `kind: Component` kustomizations used by the tree. */
  components: Set<string>;
  /** Files the tree reads: resource files (rendered through it) and patches, generator inputs and the like. */
  files: Map<string, { by: string; role: "resource" | "patch" | "input" }>;
  /** Vendored chart directories (helmGlobals.chartHome, default `charts`). */
  chartHomes: Set<string>;
  /** Whether any kustomization in the tree inflates Helm charts (needs --enable-helm). */
  usesHelm: boolean;
  /** `images:` entries, outermost kustomization first: the line that set an image. */
  images: Array<{ name: string; file: string; line: number }>;
  /** `namePrefix` / `nameSuffix` per kustomization file (for attributing renamed objects). */
  names: Map<string, { prefix: string; suffix: string }>;
  /**
   * Every path the tree names (kustomization files, and each reference both as written and resolved), so a
   * change to any of them, a deleted one included, is attributed to this tree.
   */
  reads: Set<string>;
  /** Kustomization files that run plugins (generators, transformers, validators), which may read any file. */
  plugins: string[];
  /** References that leave the workspace or are remote (refused unless allowed). */
  refusals: Array<{ file: string; line: number; ref: string; why: "outside" | "remote" | "missing" }>;
}

/** A reference kustomize would fetch rather than read: URLs, git/ssh specs, go-getter style hosts. */
export function isRemoteRef(ref: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(ref) ||
    /^git@/.test(ref) ||
    /^(?:github\.com|gitlab\.com|bitbucket\.org)[/:]/.test(ref) ||
    /[?&](?:ref|version|submodules|timeout)=/.test(ref) ||
    ref.includes("//") ||
    /\.git(?:$|[/?])/.test(ref)
  );
}

/** Whether `p` is `root` or below it (lexically: resolve symlinks first where they matter). */
export function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r));
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? [v] : [];
const paths = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.flatMap((x) => (x && typeof x === "object" && typeof x.path === "string" ? [x.path as string] : []))
    : [];
/** Inline YAML (a patch or transformer config written in place) is not a path. */
const isInline = (s: string): boolean => s.includes("\n");

/**
 * Walks a kustomization and everything it references (resources, bases, components, patches, generator
 * inputs, transformer configs, replacements, helm values and chart homes), recording what the tree reads and
 * every reference that leaves `root` or is remote.
 */
export async function kustomizeTree(
  top: string,
  root: string,
  cache: TreeCache = newTreeCache(),
): Promise<KustomizeTree> {
  const { fs } = cache;
  const readShared = (dir: string) => memo(cache.kustomizations, dir, (d) => fs.kustomization(d));
  const realpath = (p: string) => memo(cache.realpaths, p, (x) => fs.realpath(x));
  const stat = (p: string) => memo(cache.stats, p, (x) => fs.stat(x));
  const tree: KustomizeTree = {
    dirs: [],
    included: new Set(),
    components: new Set(),
    files: new Map(),
    chartHomes: new Set(),
    usesHelm: false,
    images: [],
    names: new Map(),
    reads: new Set(),
    plugins: [],
    refusals: [],
  };
  const queue = [top];
  const visited = new Set<string>();
  while (queue.length > 0) {
    const dir = queue.shift()!;
    if (visited.has(dir)) continue;
    visited.add(dir);
    for (const name of KUSTOMIZATION_FILES) tree.reads.add(join(dir, name));
    const k = await readShared(dir);
    if (!k) continue;
    tree.dirs.push(dir);
    const v = k.value;
    if (["generators", "transformers", "validators"].some((key) => strings(v[key]).length > 0))
      tree.plugins.push(k.file);
    if (v.kind === "Component" && dir !== top) tree.components.add(dir);
    tree.names.set(k.file, {
      prefix: typeof v.namePrefix === "string" ? v.namePrefix : "",
      suffix: typeof v.nameSuffix === "string" ? v.nameSuffix : "",
    });
    const lineOf = (key: Array<string | number>) => k.position(key).line;
    // Checks one reference; returns its real path when it is local and inside the workspace.
    const check = async (
      ref: string,
      at: Array<string | number>,
      mayBeRemote: boolean,
    ): Promise<string | undefined> => {
      const abs = resolve(dir, ref);
      tree.reads.add(abs);
      const real = await realpath(abs);
      if (real !== undefined) tree.reads.add(real);
      if (real === undefined) {
        // kustomize tries a missing resource as a remote repository: fail closed on both.
        if (mayBeRemote && (isRemoteRef(ref) || !inside(root, abs)))
          tree.refusals.push({
            file: k.file,
            line: lineOf(at),
            ref,
            why: isRemoteRef(ref) ? "remote" : "outside",
          });
        else if (!inside(root, abs))
          tree.refusals.push({ file: k.file, line: lineOf(at), ref, why: "outside" });
        else if (mayBeRemote) tree.refusals.push({ file: k.file, line: lineOf(at), ref, why: "missing" });
        return undefined;
      }
      if (!inside(root, real)) {
        tree.refusals.push({ file: k.file, line: lineOf(at), ref, why: "outside" });
        return undefined;
      }
      return real;
    };
    for (const key of ["resources", "bases", "components"]) {
      const list = strings(v[key]);
      for (let i = 0; i < list.length; i++) {
        const real = await check(list[i]!, [key, i], true);
        if (!real) continue;
        const st = await stat(real);
        if (st === "dir") {
          tree.included.add(real);
          if (key === "components") tree.components.add(real);
          queue.push(real);
        } else if (st === "file")
          tree.files.set(real, { by: k.file, role: key === "components" ? "input" : "resource" });
      }
    }
    const fileRefs: Array<[string, Array<string | number>]> = [];
    for (const key of [
      "patchesStrategicMerge",
      "configurations",
      "crds",
      "transformers",
      "generators",
      "validators",
    ]) {
      strings(v[key]).forEach((s, i) => {
        if (!isInline(s)) fileRefs.push([s, [key, i]]);
      });
    }
    for (const key of ["patches", "patchesJson6902", "replacements"])
      paths(v[key]).forEach((p, i) => {
        fileRefs.push([p, [key, i, "path"]]);
      });
    for (const key of ["configMapGenerator", "secretGenerator"]) {
      const gens = Array.isArray(v[key]) ? (v[key] as Array<Record<string, unknown>>) : [];
      gens.forEach((g, i) => {
        for (const f of ["files", "envs", "env"])
          strings(g?.[f]).forEach((s, j) => {
            // `files` entries may be `key=path`.
            const path = f === "files" && s.includes("=") ? s.slice(s.indexOf("=") + 1) : s;
            fileRefs.push([path, f === "env" ? [key, i, f] : [key, i, f, j]]);
          });
      });
    }
    const openapi = v.openapi as Record<string, unknown> | undefined;
    if (typeof openapi?.path === "string") fileRefs.push([openapi.path, ["openapi", "path"]]);
    const charts = Array.isArray(v.helmCharts) ? (v.helmCharts as Array<Record<string, unknown>>) : [];
    if (charts.length > 0 || v.helmChartInflationGenerator) tree.usesHelm = true;
    const globals = v.helmGlobals as Record<string, unknown> | undefined;
    const home = typeof globals?.chartHome === "string" ? globals.chartHome : "charts";
    // Without charts nothing reads the chart home: resolving it for every kustomization costs a realpath each.
    if (charts.length > 0 || globals?.chartHome) {
      const homeAbs = await check(
        home,
        globals?.chartHome ? ["helmGlobals", "chartHome"] : ["helmCharts"],
        false,
      ).catch(() => undefined);
      const homePath = homeAbs ?? resolve(dir, home);
      tree.chartHomes.add(homePath);
      for (let i = 0; i < charts.length; i++) {
        const c = charts[i]!;
        for (const f of ["valuesFile"])
          if (typeof c[f] === "string") fileRefs.push([c[f] as string, ["helmCharts", i, f]]);
        strings(c.additionalValuesFiles).forEach((s, j) => {
          fileRefs.push([s, ["helmCharts", i, "additionalValuesFiles", j]]);
        });
        // A chart not vendored under chartHome is pulled from its repository by helm.
        const vendored = typeof c.name === "string" && (await stat(join(homePath, c.name))) === "dir";
        if (!vendored && typeof c.name === "string")
          tree.refusals.push({
            file: k.file,
            line: lineOf(["helmCharts", i]),
            ref: typeof c.repo === "string" ? `${c.repo} (chart ${c.name})` : `chart ${c.name}`,
            why: "remote",
          });
      }
    }
    for (const [ref, at] of fileRefs) {
      const real = await check(ref, at, false);
      if (real && !tree.files.has(real)) tree.files.set(real, { by: k.file, role: "patch" });
    }
    const images = Array.isArray(v.images) ? (v.images as Array<Record<string, unknown>>) : [];
    images.forEach((im, i) => {
      // The line only when a finding asks for it: positions may cost a parse (plan-fs.ts).
      if (typeof im?.name === "string")
        tree.images.push({
          name: im.name,
          file: k.file,
          get line() {
            return lineOf(["images", i]);
          },
        });
    });
  }
  return tree;
}
