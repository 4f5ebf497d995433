// Parsed manifest streams kept between runs. `platform policy test` reads the same few hundred suite, template
// and sample files on every run, and parsing them as the API server does is the largest part of its time
// (about 270 ms of CPU for the gatekeeper-library's 430 files, cold; reading the stored values back takes a few).
// An entry is the documents' values (v8 serialisation keeps bigint integers apart from floats, and "__proto__"
// keys as they were), keyed by a hash of the bytes and of the running build's code, so a changed file or a
// different build of the parser never reuses one (entries live in one folder per build; a new build removes
// folders unused for a week). Streams with errors are never stored (their messages name the file), and
// positions come from a real parse, made only when something asks for one.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import { platformCacheDir, privateCacheDir } from "./cache-dir.ts";
import { writeFileAtomic } from "./fs.ts";
import type { YamlDoc, YamlStream } from "./yaml.ts";
import { parseManifestStream } from "./yaml-apiserver.ts";

/** Bumped when what an entry holds changes. */
const FORMAT = "manifest-stream/1";
/** Bumped when what a pack holds changes. */
const PACK_FORMAT = "manifest-pack/1";
/** A pack bigger than this is not written (its run reads the entries one by one next time). */
const PACK_MAX_BYTES = 64 * 1024 * 1024;

/**
 * One build folder as this process uses it. Entries are also kept together in a pack per working directory
 * (the stored bytes of every entry the last run there used, under one sha256): a run reads one file instead
 * of one per suite, template and sample (about 400 on the gatekeeper-library). The pack is read once, when
 * the folder is first used, and written by flushManifestStreamCache() when the run needed an entry it lacked.
 */
interface FolderState {
  fingerprint: string;
  packFile: string;
  pack: Map<string, Uint8Array>;
  used: Map<string, Uint8Array>;
  dirty: boolean;
}
const folders = new Map<string, FolderState>();

function folderState(dir: string, fingerprint: string): FolderState {
  const id = `${dir}\0${fingerprint}`;
  let state = folders.get(id);
  if (!state) {
    const packFile = join(
      dir,
      `pack-${createHash("sha256").update(process.cwd()).digest("hex").slice(0, 16)}`,
    );
    state = { fingerprint, packFile, pack: readPack(packFile, fingerprint), used: new Map(), dirty: false };
    folders.set(id, state);
  }
  return state;
}

/**
 * The entries of a pack file, or none when it is absent or is not exactly what writePack wrote for this build
 * (its sha256 does not match, another format or fingerprint): a corrupt pack is a miss, never an error.
 */
export function readPack(file: string, fingerprint: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  try {
    const bytes = readFileSync(file);
    if (bytes.length < 32) return out;
    const payload = bytes.subarray(32);
    if (!createHash("sha256").update(payload).digest().equals(bytes.subarray(0, 32))) return out;
    const pack = deserialize(payload) as { format?: unknown; fingerprint?: unknown; entries?: unknown };
    if (pack?.format !== PACK_FORMAT || pack.fingerprint !== fingerprint || !Array.isArray(pack.entries))
      return out;
    for (const e of pack.entries as unknown[]) {
      if (!Array.isArray(e) || typeof e[0] !== "string" || !(e[1] instanceof Uint8Array)) return new Map();
      out.set(e[0], e[1]);
    }
  } catch {
    return new Map();
  }
  return out;
}

/**
 * Writes the pack of every folder whose run used an entry its pack did not hold (best effort, atomic): the
 * next run in this working directory reads them all at once. Called once a run has read its files.
 */
export async function flushManifestStreamCache(): Promise<void> {
  for (const state of folders.values()) {
    if (!state.dirty || state.used.size === 0) continue;
    state.dirty = false;
    const payload = serialize({
      format: PACK_FORMAT,
      fingerprint: state.fingerprint,
      entries: [...state.used],
    });
    if (payload.length > PACK_MAX_BYTES) continue;
    const digest = createHash("sha256").update(payload).digest();
    await writeFileAtomic(state.packFile, Buffer.concat([digest, payload])).catch(() => {});
  }
}

export interface ManifestCacheOptions {
  /** The cache folder (default platformCacheDir("yaml")); false: parse, never cache. */
  cacheDir?: string | false;
  /** What identifies the parser's code (default: the running bundle's files; none when run from source). */
  fingerprint?: string;
}

const dirs = new Map<string, Promise<string>>();

/**
 * parseManifestStream, served from the cache when these exact bytes were parsed by this exact build before.
 * Run from source (tests, the in-process bench) there is no build to identify, so nothing is cached.
 */
export async function parseManifestStreamCached(
  bytes: Uint8Array,
  file: string,
  opts: ManifestCacheOptions = {},
): Promise<YamlStream> {
  const fingerprint = opts.fingerprint ?? bundleFingerprint();
  const wanted = opts.cacheDir ?? platformCacheDir("yaml");
  if (!fingerprint || wanted === false) return parseManifestStream(bytes, file);
  // One folder per build: a new build's first run removes the folders of builds unused for a week.
  const folder = join(wanted, fingerprint.slice(0, 16));
  let dir = dirs.get(folder);
  if (!dir) {
    dir = openBuildFolder(wanted, folder);
    dirs.set(folder, dir);
  }
  const folderPath = await dir;
  const state = folderState(folderPath, fingerprint);
  const key = createHash("sha256").update(`${FORMAT}\0${fingerprint}\0`).update(bytes).digest("hex");
  const entry = join(folderPath, key);
  let stored: Uint8Array | undefined = state.pack.get(key);
  let docs = stored && decodeEntry(stored);
  if (!docs) {
    stored = readBytes(entry);
    docs = stored && decodeEntry(stored);
    // Served by its own file: the next pack holds it.
    if (docs) state.dirty = true;
  }
  if (docs && stored) {
    state.used.set(key, stored);
    let full: YamlStream | undefined;
    return {
      docs,
      position(doc, path, o) {
        full ??= parseManifestStream(bytes, file);
        const same = full.docs[doc.index];
        return same ? full.position(same, path, o) : { line: doc.line, column: 1, exact: false };
      },
    };
  }
  const stream = parseManifestStream(bytes, file);
  if (stream.docs.every((d) => d.errors.length === 0)) {
    const blob = serialize(stream.docs.map(({ index, value, line }) => ({ index, value, line })));
    state.used.set(key, blob);
    state.dirty = true;
    // Best effort: a cache that cannot be written costs time, never a result.
    await writeFileAtomic(entry, blob).catch(() => {});
  }
  return stream;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

async function openBuildFolder(root: string, folder: string): Promise<string> {
  const existed = statSync(folder, { throwIfNoEntry: false }) !== undefined;
  const dir = await privateCacheDir(folder);
  if (!existed && dir === folder) {
    const now = Date.now();
    for (const name of await readdir(root).catch(() => [] as string[])) {
      const other = join(root, name);
      if (other === folder) continue;
      const st = await stat(other).catch(() => undefined);
      if (st?.isDirectory() && now - st.mtimeMs > WEEK_MS)
        await rm(other, { recursive: true, force: true }).catch(() => {});
    }
  }
  return dir;
}

function readBytes(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** The stored documents, or undefined (a miss) when not what this format writes. */
function decodeEntry(bytes: Uint8Array): YamlDoc[] | undefined {
  let stored: unknown;
  try {
    stored = deserialize(bytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(stored)) return undefined;
  const docs: YamlDoc[] = [];
  for (const [i, d] of stored.entries()) {
    const { index, line } = (d ?? {}) as Partial<YamlDoc>;
    if (index !== i || typeof line !== "number" || !Object.hasOwn(d as object, "value")) return undefined;
    docs.push({ index, value: (d as YamlDoc).value, line, errors: [] });
  }
  return docs;
}

let fingerprint: string | null | undefined;

/**
 * What identifies the running build: the name, size and mtime of every .js file of the bundle this module is
 * part of (dist/ and dist/chunks/; esbuild names chunks by their content). Undefined when running from source.
 */
export function bundleFingerprint(moduleUrl: string = import.meta.url): string | undefined {
  if (fingerprint !== undefined && moduleUrl === import.meta.url) return fingerprint ?? undefined;
  let result: string | null = null;
  if (moduleUrl.startsWith("file:") && moduleUrl.endsWith(".js")) {
    const here = dirname(fileURLToPath(moduleUrl));
    const root = basename(here) === "chunks" ? dirname(here) : here;
    try {
      const hash = createHash("sha256").update(FORMAT);
      for (const dir of [root, join(root, "chunks")]) {
        let names: string[];
        try {
          names = readdirSync(dir)
            .filter((n) => n.endsWith(".js"))
            .sort();
        } catch {
          continue;
        }
        for (const n of names) {
          const st = statSync(join(dir, n));
          hash.update(`${dir}/${n}\0${st.size}\0${st.mtimeMs}\n`);
        }
      }
      result = hash.digest("hex");
    } catch {
      result = null;
    }
  }
  if (moduleUrl === import.meta.url) fingerprint = result;
  return result ?? undefined;
}
