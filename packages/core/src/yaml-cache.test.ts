import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { deserialize, serialize } from "node:v8";
import { afterAll, describe, expect, it } from "vitest";
import { parseManifestStream } from "./yaml-apiserver.ts";
import {
  bundleFingerprint,
  flushManifestStreamCache,
  parseManifestStreamCached,
  readPack,
} from "./yaml-cache.ts";

const temps: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "yaml-cache-test-"));
  temps.push(d);
  return d;
};
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const TEXT = `apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  "__proto__": polluted?
  n: "1"
---
count: 9007199254740993
ratio: 1.5
small: 0.25
on: yes
`;
const bytes = () => new TextEncoder().encode(TEXT);

/** The one entry under a cache folder (entries live in one folder per build). */
function only(cacheDir: string): string {
  const files = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
  expect(files).toHaveLength(1);
  return join(files[0]?.parentPath ?? "", files[0]?.name ?? "");
}

describe("parseManifestStreamCached", () => {
  it("serves the same documents from the cache, with positions from a real parse", async () => {
    const cacheDir = temp();
    const opts = { cacheDir, fingerprint: "build-a" };
    const direct = parseManifestStream(bytes(), "m.yaml");
    const first = await parseManifestStreamCached(bytes(), "m.yaml", opts);
    only(cacheDir);
    const again = await parseManifestStreamCached(bytes(), "m.yaml", opts);
    expect(again.docs).toEqual(direct.docs);
    expect(first.docs).toEqual(direct.docs);
    const second = again.docs[1]?.value as Record<string, unknown>;
    expect(second.count).toBe(9007199254740993n);
    expect(second.ratio).toBe(1.5);
    const data = (again.docs[0]?.value as { data: object } | undefined)?.data ?? {};
    expect(Object.hasOwn(data, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(again.position(again.docs[1] as never, ["ratio"])).toEqual(
      direct.position(direct.docs[1] as never, ["ratio"]),
    );
  });

  it("reads what the cache holds for these bytes and this build, and nothing else", async () => {
    const cacheDir = temp();
    await parseManifestStreamCached(bytes(), "m.yaml", { cacheDir, fingerprint: "build-a" });
    const entry = only(cacheDir);
    // The entry is what is served (so a hit really skips the parse)…
    writeFileSync(entry, serialize([{ index: 0, value: { from: "cache" }, line: 1 }]));
    const hit = await parseManifestStreamCached(bytes(), "m.yaml", { cacheDir, fingerprint: "build-a" });
    expect(hit.docs.map((d) => d.value)).toEqual([{ from: "cache" }]);
    // …but another build of the parser, or changed bytes, never sees it.
    const otherBuild = await parseManifestStreamCached(bytes(), "m.yaml", {
      cacheDir,
      fingerprint: "build-b",
    });
    expect(otherBuild.docs).toEqual(parseManifestStream(bytes(), "m.yaml").docs);
    const changed = new TextEncoder().encode(TEXT.replace("name: a", "name: b"));
    const edited = await parseManifestStreamCached(changed, "m.yaml", { cacheDir, fingerprint: "build-a" });
    expect(edited.docs[0]?.value).toMatchObject({ metadata: { name: "b" } });
  });

  it("ignores a corrupt entry and never stores a stream with errors", async () => {
    const cacheDir = temp();
    const opts = { cacheDir, fingerprint: "build-a" };
    await parseManifestStreamCached(bytes(), "m.yaml", opts);
    writeFileSync(only(cacheDir), "not a v8 value");
    expect((await parseManifestStreamCached(bytes(), "m.yaml", opts)).docs).toEqual(
      parseManifestStream(bytes(), "m.yaml").docs,
    );
    const bad = new TextEncoder().encode("a: 1\na: 2\n");
    const broken = await parseManifestStreamCached(bad, "bad.yaml", opts);
    expect(broken.docs[0]?.errors.length).toBeGreaterThan(0);
    only(cacheDir);
  });

  it("caches nothing when run from source or when turned off", async () => {
    const cacheDir = temp();
    expect(bundleFingerprint(pathToFileURL(join(cacheDir, "yaml-cache.ts")).href)).toBeUndefined();
    await parseManifestStreamCached(bytes(), "m.yaml", { cacheDir: false, fingerprint: "build-a" });
    await parseManifestStreamCached(bytes(), "m.yaml", { cacheDir });
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it("keeps one folder per build and removes those of builds unused for a week", async () => {
    const cacheDir = temp();
    await parseManifestStreamCached(bytes(), "m.yaml", { cacheDir, fingerprint: "old-build-0000000" });
    await parseManifestStreamCached(bytes(), "m.yaml", { cacheDir, fingerprint: "recent-build-000000" });
    const weekAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    utimesSync(join(cacheDir, "old-build-000000"), weekAgo, weekAgo);
    await parseManifestStreamCached(bytes(), "m.yaml", { cacheDir, fingerprint: "new-build-00000000" });
    expect(readdirSync(cacheDir).sort()).toEqual(["new-build-000000", "recent-build-000"]);
  });

  it("identifies a bundle by its files: a rebuilt chunk is another build", () => {
    const dist = temp();
    mkdirSync(join(dist, "chunks"));
    writeFileSync(join(dist, "main.js"), "main");
    writeFileSync(join(dist, "chunks", "chunk-AAAA.js"), "parser");
    const url = pathToFileURL(join(dist, "chunks", "chunk-AAAA.js")).href;
    const before = bundleFingerprint(url);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(bundleFingerprint(pathToFileURL(join(dist, "main.js")).href)).toBe(before);
    const later = new Date(statSync(join(dist, "main.js")).mtimeMs + 5000);
    utimesSync(join(dist, "chunks", "chunk-AAAA.js"), later, later);
    expect(bundleFingerprint(url)).not.toBe(before);
  });
});

describe("the pack of a run's entries", () => {
  const sha = (s: string | Uint8Array) => createHash("sha256").update(s).digest();
  const packName = (cwd: string) => `pack-${sha(cwd).toString("hex").slice(0, 16)}`;

  it("holds the stored bytes of every entry the run used, under one sha256, and only as written", async () => {
    const cacheDir = temp();
    const opts = { cacheDir, fingerprint: "build-pack-00000" };
    const other = new TextEncoder().encode("kind: Other\n");
    await parseManifestStreamCached(bytes(), "m.yaml", opts);
    await parseManifestStreamCached(other, "o.yaml", opts);
    await flushManifestStreamCache();
    const file = join(cacheDir, "build-pack-00000", packName(process.cwd()));
    const pack = readPack(file, "build-pack-00000");
    expect([...pack.values()].map((b) => deserialize(b)[0].value)).toEqual([
      parseManifestStream(bytes(), "m.yaml").docs[0]?.value,
      { kind: "Other" },
    ]);
    // Another build's pack, or one changed by a single byte, holds nothing.
    expect(readPack(file, "build-other-0000").size).toBe(0);
    const flipped = readFileSync(file);
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] ?? 0) ^ 1;
    writeFileSync(file, flipped);
    expect(readPack(file, "build-pack-00000").size).toBe(0);
    writeFileSync(file, "short");
    expect(readPack(file, "build-pack-00000").size).toBe(0);
  });

  it("serves the next process of the same working directory without reading the entries", () => {
    const cacheDir = temp();
    const cwd = temp();
    const fingerprint = "build-next-00000";
    // What the pack holds is what is served (a stand-in value, as an entry file's is in the test above).
    const key = sha(Buffer.concat([Buffer.from(`manifest-stream/1\0${fingerprint}\0`), bytes()])).toString(
      "hex",
    );
    const payload = serialize({
      format: "manifest-pack/1",
      fingerprint,
      entries: [[key, serialize([{ index: 0, value: { from: "pack" }, line: 1 }])]],
    });
    mkdirSync(join(cacheDir, fingerprint), { recursive: true, mode: 0o700 });
    writeFileSync(join(cacheDir, fingerprint, packName(cwd)), Buffer.concat([sha(payload), payload]));
    const run = (dir: string) =>
      spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { parseManifestStreamCached } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, "yaml-cache.ts")).href)};
           const s = await parseManifestStreamCached(new TextEncoder().encode(${JSON.stringify(TEXT)}), "m.yaml", { cacheDir: ${JSON.stringify(cacheDir)}, fingerprint: ${JSON.stringify(fingerprint)} });
           process.stdout.write(JSON.stringify(s.docs.map((d) => d.value), (_k, v) => typeof v === "bigint" ? String(v) : v));`,
        ],
        { cwd: dir, encoding: "utf8" },
      );
    const served = run(cwd);
    expect(served.stderr).toBe("");
    expect(JSON.parse(served.stdout)).toEqual([{ from: "pack" }]);
    // Another working directory has its own pack: it parses (and would pack its own entries).
    expect(JSON.parse(run(temp()).stdout)[0]).toMatchObject({ kind: "ConfigMap" });
  });
});
