import { describe, expect, it } from "vitest";
import {
  addToIndex,
  emptyIndex,
  filterReferrers,
  nextLink,
  referrerDescriptor,
  referrersTag,
  removeFromIndex,
} from "./referrers.ts";
import { encodeJson, MediaType, parseManifest, sha256Digest } from "./types.ts";

const d = (n: number, artifactType?: string) => ({
  mediaType: MediaType.ociManifest,
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: n,
  ...(artifactType ? { artifactType } : {}),
});

describe("fallback index", () => {
  it("tag for a digest", () => {
    expect(referrersTag(`sha256:${"ab".repeat(32)}`)).toBe(`sha256-${"ab".repeat(32)}`);
    expect(() => referrersTag("nope")).toThrow(/not a digest/);
  });
  it("adds once, replaces a changed entry, keeps others, never mutates the input", () => {
    const base = emptyIndex();
    const a = addToIndex(base, d(1, "x"));
    expect(a.changed).toBe(true);
    expect(base.manifests).toEqual([]);
    expect(addToIndex(a.index, d(1, "x")).changed).toBe(false);
    const b = addToIndex(a.index, d(2, "y")).index;
    const replaced = addToIndex(b, { ...d(1, "x"), annotations: { k: "v" } });
    expect(replaced.changed).toBe(true);
    expect(replaced.index.manifests.map((m) => m.digest)).toEqual([d(2).digest, d(1).digest]);
    expect(replaced.index.manifests).toHaveLength(2);
  });
  it("removes only the given digest; absent is a no-op", () => {
    const idx = addToIndex(addToIndex(emptyIndex(), d(1)).index, d(2)).index;
    const r = removeFromIndex(idx, d(1).digest);
    expect(r.changed).toBe(true);
    expect(r.index.manifests).toEqual([d(2)]);
    expect(removeFromIndex(r.index, d(3).digest).changed).toBe(false);
  });
  it("filters by artifactType and dedupes", () => {
    expect(filterReferrers([d(1, "x"), d(2, "y"), d(1, "x")], "x")).toEqual([d(1, "x")]);
    expect(filterReferrers([d(1, "x"), d(1, "x"), d(2)])).toHaveLength(2);
  });
  it("a referrer's descriptor carries artifactType (else config.mediaType) and annotations", () => {
    const withType = encodeJson({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: "application/spdx+json",
      config: { mediaType: MediaType.ociEmpty, digest: sha256Digest("{}"), size: 2 },
      layers: [],
      annotations: { a: "b" },
    });
    const p = parseManifest(withType);
    expect(referrerDescriptor(withType, p.mediaType, p.manifest)).toEqual({
      mediaType: MediaType.ociManifest,
      digest: sha256Digest(withType),
      size: withType.byteLength,
      artifactType: "application/spdx+json",
      annotations: { a: "b" },
    });
    const legacy = encodeJson({
      schemaVersion: 2,
      config: { mediaType: "application/vnd.cncf.notary.signature", digest: sha256Digest("{}"), size: 2 },
      layers: [],
    });
    const q = parseManifest(legacy);
    expect(referrerDescriptor(legacy, q.mediaType, q.manifest).artifactType).toBe(
      "application/vnd.cncf.notary.signature",
    );
  });
});

describe("Link header", () => {
  it("finds rel=next among several links", () => {
    expect(nextLink('</v2/a/referrers/x?n=2&last=b>; rel="next"')).toBe("/v2/a/referrers/x?n=2&last=b");
    expect(nextLink('<https://x/prev>; rel="prev", <https://x/next>; rel=next')).toBe("https://x/next");
    expect(nextLink(null)).toBeUndefined();
    expect(nextLink('<https://x/prev>; rel="prev"')).toBeUndefined();
  });
});

describe("parseManifest", () => {
  it("reads `manifests: null` as an empty index and rejects junk", () => {
    const p = parseManifest(
      new TextEncoder().encode(
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}',
      ),
    );
    expect(p.manifest).toMatchObject({ manifests: [] });
    expect(() => parseManifest(new TextEncoder().encode("nope"))).toThrow(/not JSON/);
    expect(() => parseManifest(new TextEncoder().encode('{"schemaVersion":1}'))).toThrow(/schemaVersion 1/);
    expect(() =>
      parseManifest(
        new TextEncoder().encode(
          '{"schemaVersion":2,"config":{"mediaType":"x","digest":"bad","size":1},"layers":[]}',
        ),
      ),
    ).toThrow(/invalid descriptor/);
  });
});
