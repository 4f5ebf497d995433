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
  const entry = join(
    await dir,
    createHash("sha256").update(`${FORMAT}\0${fingerprint}\0`).update(bytes).digest("hex"),
  );
  const docs = readEntry(entry);
  if (docs) {
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
  if (stream.docs.every((d) => d.errors.length === 0))
    // Best effort: a cache that cannot be written costs time, never a result.
    await writeFileAtomic(
      entry,
      serialize(stream.docs.map(({ index, value, line }) => ({ index, value, line }))),
    ).catch(() => {});
  return stream;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

async function openBuildFolder(root: string, folder: string): Promise<string> {
  const existed = await stat(folder).then(
    () => true,
    () => false,
  );
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

/** The stored documents, or undefined (a miss) when absent or not what this format writes. */
function readEntry(path: string): YamlDoc[] | undefined {
  let stored: unknown;
  try {
    stored = deserialize(readFileSync(path));
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
