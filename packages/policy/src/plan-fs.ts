// Planning a big config repo without walking the disk. A plan asks the file system which paths exist (the
// directory walk, every kustomization's references) and reads every kustomization: on 1,000 services × 3
// environments that is ~40,000 system calls and 3,800 YAML parses, seconds before anything renders. In a git
// work tree the same answers come from git's listings (the index, with the modified, untracked and ignored
// files on top, from disk), answered from memory. Fail closed: whatever the listings cannot vouch for
// (symlinks, submodules, a tracked file turned directory, too many ignored files) makes the plan ask the disk.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import type { Logger } from "@platform/core";
import { blobId, REGULAR, type WorkTreeBlobs } from "./git.ts";
import {
  diskFs,
  type EntryType,
  KUSTOMIZATION_FILES,
  type Kustomization,
  type PlanFs,
  parseKustomization,
} from "./kustomize.ts";

/** More ignored files than this (a vendored node_modules): the disk is asked instead of listing them. */
const MAX_IGNORED_ENTRIES = 20_000;

/** Kustomization parses kept between runs, by blob id (`null`: the file holds no kustomization). */
export interface ParseStore {
  get(id: string): Record<string, unknown> | null | undefined;
  set(id: string, value: Record<string, unknown> | null): void;
}

const KUSTOMIZATION_NAMES = new Set(KUSTOMIZATION_FILES);

/** The work tree as git lists it: every file (absolute paths), and directories that hold none. */
export class WorkTreeView {
  readonly root: string;
  private readonly files: Set<string>;
  private readonly emptyDirs: string[];
  private readonly blobs: WorkTreeBlobs;
  private constructor(root: string, files: Set<string>, emptyDirs: string[], blobs: WorkTreeBlobs) {
    this.root = root;
    this.files = files;
    this.emptyDirs = emptyDirs;
    this.blobs = blobs;
  }

  /**
   * The index's files, with the modified, deleted and untracked ones and the ignored ones as the disk has
   * them, without `own` (the check's cache files, absolute). Undefined when the listings cannot vouch for the tree (see the header): then plan with the disk.
   */
  static async open(
    root: string,
    blobs: WorkTreeBlobs,
    o: { log?: Logger; own?: string[] } = {},
  ): Promise<WorkTreeView | undefined> {
    const l = blobs.listing;
    if (!l) return undefined;
    const log = o.log;
    const why = (reason: string) => {
      log?.debug(`planning from the disk: ${reason}`);
      return undefined;
    };
    const files = new Set<string>();
    const dirs: string[] = [];
    // Git prints normalised POSIX paths: joining is concatenating (join normalises each of 10,000 again).
    const abs = (p: string) => (sep === "/" ? `${root}/${p}` : join(root, p));
    for (const [p, e] of l.index) {
      if (!REGULAR.test(e.mode)) return why(`${p} is a symlink or submodule`);
      if (!l.dirty.has(p)) files.add(abs(p));
    }
    for (const p of l.dirty) {
      const st = await lstat(abs(p)).catch(() => undefined);
      if (!st) continue;
      if (!st.isFile()) return why(`${p} is not a regular file`);
      files.add(abs(p));
    }
    let listed = 0;
    for (const i of l.ignored) {
      const path = join(root, i).replace(/\/+$/, "");
      const st = await lstat(path).catch(() => undefined);
      if (!st) continue;
      if (st.isFile()) {
        files.add(path);
        continue;
      }
      if (!st.isDirectory()) return why(`${i} is not a regular file`);
      dirs.push(path);
      const entries = await readdir(path, { withFileTypes: true, recursive: true }).catch(() => undefined);
      if (!entries) return why(`${i} cannot be listed`);
      listed += entries.length;
      if (listed > MAX_IGNORED_ENTRIES) return why(`more than ${MAX_IGNORED_ENTRIES} ignored files`);
      for (const e of entries) {
        const p = join(e.parentPath, e.name);
        if (e.isFile()) files.add(p);
        else if (e.isDirectory()) dirs.push(p);
        else return why(`${relative(root, p)} is not a regular file`);
      }
    }
    // The check's own cache files (the plan cache appears after the first run) are not config.
    for (const f of o.own ?? []) files.delete(f);
    return new WorkTreeView(root, files, dirs, blobs);
  }

  /**
   * A digest of everything a plan reads of the tree: which files and directories exist, and the bytes of
   * every kustomization file (its blob id). Equal keys, equal plans (with the same inputs and code).
   */
  async planKey(salt: string): Promise<string> {
    const lines = [salt];
    for (const f of [...this.files].sort()) {
      if (!KUSTOMIZATION_NAMES.has(basename(f))) lines.push(f);
      else {
        const id = this.blobs.id(this.rel(f));
        lines.push(`${f}\0${(id instanceof Promise ? await id : id) ?? "-"}`);
      }
    }
    for (const d of [...this.emptyDirs].sort()) lines.push(`${d}/`);
    return createHash("sha256").update(lines.join("\n")).digest("hex");
  }

  private rel(p: string): string {
    return p
      .slice(this.root.length + 1)
      .split(sep)
      .join("/");
  }

  /** PlanFs over the listing (paths outside the workspace go to the disk); kustomizations through `parses`. */
  fs(parses: ParseStore): PlanFs {
    const { root, files, blobs } = this;
    const children = new Map<string, Map<string, EntryType>>();
    const addChild = (parent: string, name: string, type: EntryType) => {
      let m = children.get(parent);
      if (!m) {
        m = new Map();
        children.set(parent, m);
      }
      m.set(name, type);
    };
    const linked = new Set<string>([root]);
    const addDir = (d: string) => {
      // Every ancestor up to the root is a directory holding the next.
      while (!linked.has(d)) {
        linked.add(d);
        if (!children.has(d)) children.set(d, new Map());
        const parent = dirname(d);
        addChild(parent, d.slice(parent.length + 1), "dir");
        d = parent;
      }
    };
    children.set(root, new Map());
    for (const d of this.emptyDirs) addDir(d);
    for (const f of files) {
      const parent = dirname(f);
      addDir(parent);
      addChild(parent, f.slice(parent.length + 1), "file");
    }
    // Paths here are absolute and normalised (resolve, join): a prefix test is `inside`.
    const mine = (p: string) => p === root || p.startsWith(`${root}${sep}`);
    const kind = (p: string) => (files.has(p) ? "file" : children.has(p) ? "dir" : undefined);
    return {
      realpath: async (p) => (mine(p) ? (kind(p) ? p : undefined) : diskFs.realpath(p)),
      stat: async (p) => (mine(p) ? kind(p) : diskFs.stat(p)),
      exists: async (p) => (mine(p) ? kind(p) !== undefined : diskFs.exists(p)),
      readdir: async (dir) => {
        if (!mine(dir)) return diskFs.readdir(dir);
        const m = children.get(dir);
        if (!m) throw Object.assign(new Error(`ENOTDIR: ${dir}`), { code: "ENOTDIR" });
        return [...m].map(([name, type]) => ({ name, type }));
      },
      filesUnder: async (dir) => {
        if (!mine(dir)) return diskFs.filesUnder(dir);
        const prefix = `${dir}${sep}`;
        return [...files].filter((f) => f.startsWith(prefix)).sort();
      },
      kustomization: async (dir) => {
        if (!mine(dir)) return diskFs.kustomization(dir);
        for (const name of KUSTOMIZATION_FILES) {
          const file = join(dir, name);
          if (!files.has(file)) continue;
          const id = await blobs.id(this.rel(file));
          if (id === undefined) continue;
          const hit = parses.get(id);
          if (hit === null) return undefined;
          if (hit) return { dir, file, value: hit, position: lazyPosition(file, id) };
          const bytes = await readFile(file).catch(() => undefined);
          if (!bytes) continue;
          const k = parseKustomization(bytes.toString("utf8"), file);
          parses.set(blobId(bytes), k?.value ?? null);
          return k ? { dir, file, ...k } : undefined;
        }
        return undefined;
      },
    };
  }
}

/** Positions of a cached kustomization: from a parse of the file, made only when asked, of the same bytes. */
function lazyPosition(file: string, id: string): Kustomization["position"] {
  let parsed: Omit<Kustomization, "dir" | "file"> | null | undefined;
  return (path) => {
    if (parsed === undefined) {
      let bytes: Buffer | undefined;
      try {
        bytes = readFileSync(file);
      } catch {}
      parsed =
        bytes && blobId(bytes) === id ? (parseKustomization(bytes.toString("utf8"), file) ?? null) : null;
    }
    return parsed ? parsed.position(path) : { line: 1, column: 1, exact: false };
  };
}
