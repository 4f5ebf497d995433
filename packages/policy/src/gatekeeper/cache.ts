// The on-disk cache of compiled Rego, shared by every process of one user: `opa build` takes about a second,
// so a run whose templates did not change never calls it. WebAssembly.Module cannot be serialised in Node,
// so what is kept is OPA's output (the .wasm, named by its sha256) and one small JSON entry per template,
// keyed by the template's Rego and libs, the OPA version and CACHE_VERSION. Entries are written atomically;
// a corrupt, tampered or foreign-version entry is a miss, rebuilt with opa, never trusted.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { platformCacheDir, privateCacheDir } from "@platform/core/cache-dir";
import { errorMessage } from "@platform/core/errors";
import { writeFileAtomic } from "@platform/core/fs";
import type { Logger } from "@platform/core/log";

/**
 * Bumped whenever the wrapping of a template (package renaming, lib relocation) or the meaning of an entry
 * changes, so entries written by another version of this code are never reused.
 */
export const CACHE_VERSION = "gatekeeper-rego/2";

/** What the cache keeps per template: where its compiled module is, or why it does not compile. */
export type CacheEntry =
  | { wasm: string; entrypoint: string; sha256: string }
  | { error: string; hint: string; transient?: boolean };

/** sha256 hex of a string or bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The key of one template's sources (Rego and libs) under this CACHE_VERSION. */
export function sourceKey(rego: string, libs: readonly string[]): string {
  return sha256(JSON.stringify([CACHE_VERSION, rego, libs]));
}

/** One process's view of a cache directory: each module is read and verified once however many templates share it. */
export class RegoCache {
  private readonly modules = new Map<string, Promise<Uint8Array | undefined>>();
  readonly dir: string;
  private readonly log: Logger | undefined;

  constructor(dir: string, log?: Logger) {
    this.dir = dir;
    this.log = log;
  }

  /** Opens the cache at `dir`, or a private temporary one when `dir` is not safe to use (see privateCacheDir). */
  static async open(dir: string, log?: Logger): Promise<RegoCache> {
    return new RegoCache(await privateCacheDir(dir, log), log);
  }

  /** The entry compiled by this OPA version, or undefined (a miss) when absent, unreadable or not verifiable. */
  entry(opaVersion: string, key: string): Promise<CacheEntry | undefined> {
    return this.readEntry(entryName(opaVersion, key), opaVersion);
  }

  /** The last entry compiled by any OPA version: what a run without opa can still use. */
  latest(key: string): Promise<CacheEntry | undefined> {
    return this.readEntry(latestName(key), undefined);
  }

  /** Records an entry for this OPA version and as the latest. Best effort: a read-only cache costs time, never a result. */
  async put(opaVersion: string, key: string, entry: CacheEntry): Promise<void> {
    const text = JSON.stringify({ ...entry, opaVersion, cacheVersion: CACHE_VERSION });
    await this.write(entryName(opaVersion, key), text);
    await this.write(latestName(key), text);
  }

  /** Stores a compiled module under its hash and returns its file name; the bytes stay in memory for this run. */
  async putModule(wasm: Uint8Array): Promise<{ name: string; sha256: string }> {
    const hash = sha256(wasm);
    const name = `${hash}.wasm`;
    this.modules.set(name, Promise.resolve(wasm));
    await this.write(name, wasm);
    return { name, sha256: hash };
  }

  /** A small text file kept beside the entries (e.g. an opa binary's version), or undefined. */
  async note(name: string): Promise<string | undefined> {
    return readSmall(join(this.dir, name))?.toString("utf8");
  }

  /** Writes a note (best effort). */
  setNote(name: string, text: string): Promise<void> {
    return this.write(name, text);
  }

  /** A module's bytes, only when they still hash to the name they were stored under. */
  module(name: string): Promise<Uint8Array | undefined> {
    let bytes = this.modules.get(name);
    if (!bytes) {
      const b = readSmall(join(this.dir, name));
      bytes = Promise.resolve(b && `${sha256(b)}.wasm` === name ? new Uint8Array(b) : undefined);
      this.modules.set(name, bytes);
    }
    return bytes;
  }

  private async readEntry(name: string, opaVersion: string | undefined): Promise<CacheEntry | undefined> {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(readSmall(join(this.dir, name))?.toString("utf8") ?? "null") as Record<
        string,
        unknown
      >;
    } catch {
      return undefined;
    }
    if (entry === null || typeof entry !== "object" || entry.cacheVersion !== CACHE_VERSION) return undefined;
    if (opaVersion !== undefined && entry.opaVersion !== opaVersion) return undefined;
    if (typeof entry.error === "string" && typeof entry.hint === "string")
      return { error: entry.error, hint: entry.hint };
    if (
      typeof entry.wasm === "string" &&
      typeof entry.entrypoint === "string" &&
      typeof entry.sha256 === "string" &&
      entry.wasm === `${entry.sha256}.wasm` &&
      // Verified before use: a module whose bytes are not the ones recorded is a miss (recompiled with opa).
      (await this.module(entry.wasm))
    )
      return { wasm: entry.wasm, entrypoint: entry.entrypoint, sha256: entry.sha256 };
    return undefined;
  }

  private async write(name: string, data: string | Uint8Array): Promise<void> {
    try {
      await writeFileAtomic(join(this.dir, name), data);
    } catch (err) {
      this.log?.warn(`cannot write the Rego cache: ${errorMessage(err)}`);
    }
  }
}

/**
 * A cache file's bytes, or undefined when it cannot be read. Synchronous on purpose: a run reads one small
 * entry per template and one module, where each asynchronous read (open, stat, read, close, each a round trip
 * through the thread pool) cost more than the read itself.
 */
function readSmall(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function entryName(opaVersion: string, key: string): string {
  return `${sha256(`${opaVersion}\0${key}`)}.json`;
}

function latestName(key: string): string {
  return `latest-${key}.json`;
}

/**
 * The default Rego cache: $RUNNER_TOOL_CACHE/platform/rego in GitHub Actions, else the user's own cache
 * directory ($XDG_CACHE_HOME/platform/rego, else ~/.cache/platform/rego); never a shared temp folder.
 */
export function defaultRegoCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return platformCacheDir("rego", env);
}
