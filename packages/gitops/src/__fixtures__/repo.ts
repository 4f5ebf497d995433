// Test helpers: the fixture config repos, an in-memory RepoReader, and a check that two texts differ only
// inside digests (and tags, when a test bumps them).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { RepoReader } from "../types.ts";

export const FIXTURES = import.meta.dirname;

/** A deterministic sha256 digest for a seed. */
export function digest(seed: string): string {
  return `sha256:${createHash("sha256").update(seed).digest("hex")}`;
}

/** Every file of a fixture repo, repo-relative, exact bytes. */
export function fixtureFiles(name: string): Record<string, string> {
  const root = join(FIXTURES, name);
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else out[relative(root, abs).split("\\").join("/")] = readFileSync(abs, "utf8");
    }
  };
  walk(root);
  return out;
}

/** A RepoReader over a map of files (a later `set` is seen by the next plan, like a commit). */
export function memoryReader(files: Record<string, string>): RepoReader & { files: Record<string, string> } {
  return {
    files,
    async list(dir) {
      const prefix = dir ? `${dir.replace(/\/+$/, "")}/` : "";
      return Object.keys(files)
        .filter((p) => p === dir || p.startsWith(prefix))
        .sort();
    },
    async read(path) {
      return files[path];
    },
  };
}

const DIGEST = /sha256:[0-9a-f]{64}/g;

/** The two texts with every digest masked: equal exactly when they differ only inside digests. */
export function maskDigests(text: string): string {
  return text.replace(DIGEST, "sha256:<digest>");
}
