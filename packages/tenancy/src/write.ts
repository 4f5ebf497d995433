import type { Dirent } from "node:fs";
import { lstat, mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { PlatformError, writeFileAtomic } from "@platform/core";
import { createTwoFilesPatch } from "diff";
import { BICEP_PARAMETERS, GENERATED_HEADER, type RenderResult } from "./render.ts";

export interface WriteResult {
  written: string[];
  unchanged: string[];
  /** Files the render owned and no longer produces (a removed team or service). */
  removed: string[];
}

export interface DriftResult {
  /** Output-relative paths that differ: missing, changed, or no longer rendered. */
  drifted: string[];
  /** A unified diff from what is committed (a/) to what platform.yaml renders (b/). */
  diff: string;
}

/** Writes the render into `out`: changed files atomically, and removes owned files no longer rendered. */
export async function writeRender(out: string, render: RenderResult): Promise<WriteResult> {
  const current = await readRender(out);
  const result: WriteResult = { written: [], unchanged: [], removed: [] };
  for (const [path, text] of render.files) {
    if (current.get(path) === text) {
      result.unchanged.push(path);
      continue;
    }
    const target = join(out, path);
    if (relative(out, target).startsWith("..") || path.startsWith("/"))
      throw new PlatformError("TENANCY_OUT_ESCAPE", `${path} would be written outside ${out}`, {
        input: "out",
      });
    await refuseSymlink(target, out);
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, text, { input: "out" });
    result.written.push(path);
  }
  for (const path of current.keys())
    if (!render.files.has(path)) {
      await rm(join(out, path));
      result.removed.push(path);
    }
  return result;
}

/** Compares the render with what `out` holds; nothing is written. */
export async function checkRender(out: string, render: RenderResult): Promise<DriftResult> {
  const current = await readRender(out);
  const paths = [...new Set([...render.files.keys(), ...current.keys()])].sort();
  const drifted: string[] = [];
  let diff = "";
  for (const path of paths) {
    const before = current.get(path);
    const after = render.files.get(path);
    if (before === after) continue;
    drifted.push(path);
    diff += createTwoFilesPatch(
      before === undefined ? "/dev/null" : `a/${path}`,
      after === undefined ? "/dev/null" : `b/${path}`,
      before ?? "",
      after ?? "",
      undefined,
      undefined,
      { context: 3 },
    ).replace(/^=+\n/, "");
  }
  return { drifted, diff };
}

/** The files under `out` the render owns (YAML carrying its header, and the Bicep parameters file), by path. */
export async function readRender(out: string): Promise<Map<string, string>> {
  const owned = new Map<string, string>();
  let entries: Dirent[];
  try {
    entries = await readdir(out, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return owned;
    throw new PlatformError(
      "TENANCY_OUT_UNREADABLE",
      `cannot read ${out}: ${(err as NodeJS.ErrnoException).code}`,
      {
        input: "out",
        category: "environment",
        cause: err,
      },
    );
  }
  for (const e of entries) {
    // Symlinks are never followed (or owned): a config repo must not lead the render outside itself.
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    const path = relative(out, full).split(sep).join("/");
    if (!/\.(ya?ml|json)$/.test(path)) continue;
    const text = await readFile(full, "utf8");
    if (path === BICEP_PARAMETERS || text.startsWith(GENERATED_HEADER)) owned.set(path, text);
  }
  return owned;
}

async function refuseSymlink(target: string, out: string): Promise<void> {
  for (let p = target; p.length > out.length; p = dirname(p)) {
    const st = await lstat(p).catch(() => undefined);
    if (st?.isSymbolicLink())
      throw new PlatformError(
        "TENANCY_OUT_SYMLINK",
        `${p} is a symbolic link; the render does not write through links`,
        {
          input: "out",
          hint: "Replace the link with a directory or file in the config repo.",
        },
      );
  }
}
