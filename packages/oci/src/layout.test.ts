import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPlatformError } from "@platform/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OciLayout, REF_NAME_ANNOTATION } from "./layout.ts";
import { EMPTY_JSON_DIGEST, encodeJson, MediaType, sha256Digest } from "./types.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "layout-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const image = (n: number) =>
  encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(`c${n}`), size: 2 },
    layers: [],
  });

describe("OciLayout", () => {
  it("creates oci-layout, index.json and blobs/sha256, and names manifests with ref.name", async () => {
    const l = await OciLayout.create(dir);
    expect(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    const a = image(1);
    const b = image(2);
    await l.addManifest(a, MediaType.ociManifest, "v1");
    await l.addManifest(b, MediaType.ociManifest, "v2");
    // Re-pointing a name replaces its previous holder.
    await l.addManifest(b, MediaType.ociManifest, "v1");
    const idx = await l.index();
    expect(idx.manifests.map((m) => [m.digest, m.annotations?.[REF_NAME_ANNOTATION]])).toEqual([
      [sha256Digest(b), "v2"],
      [sha256Digest(b), "v1"],
    ]);
    expect((await l.resolve("v1")).digest).toBe(sha256Digest(b));
    expect(await l.hasBlob(sha256Digest(a))).toBe(true);
    expect((await l.resolve(sha256Digest(a))).mediaType).toBe(MediaType.ociManifest);
  });

  it("asks which image when several are named, and names what is there", async () => {
    const l = await OciLayout.create(dir);
    await l.addManifest(image(1), MediaType.ociManifest, "v1");
    expect((await l.resolve()).digest).toBe(sha256Digest(image(1)));
    await l.addManifest(image(2), MediaType.ociManifest, "v2");
    const err = await l.resolve().catch((e: unknown) => e);
    expect(isPlatformError(err, "OCI_LAYOUT_AMBIGUOUS")).toBe(true);
    expect((err as Error & { hint: string }).hint).toContain("v1, v2");
    expect(isPlatformError(await l.resolve("nope").catch((e: unknown) => e), "OCI_NOT_FOUND")).toBe(true);
  });

  it("verifies blobs on write and read; a tampered file is detected", async () => {
    const l = await OciLayout.create(dir);
    const data = new Uint8Array(Buffer.from("layer"));
    const d = await l.writeBlob(data);
    const wrong = await l.writeBlob(new Uint8Array(Buffer.from("other")), d).catch((e: unknown) => e);
    expect(isPlatformError(wrong, "OCI_DIGEST_MISMATCH")).toBe(true);
    await writeFile(join(dir, "blobs", "sha256", d.slice(7)), "tampered");
    expect(isPlatformError(await l.readBlob(d).catch((e: unknown) => e), "OCI_DIGEST_MISMATCH")).toBe(true);
    const reader = { size: 5, read: async () => new Uint8Array(Buffer.from("wrong")) };
    const err = await l.writeBlob(reader, sha256Digest("right")).catch((e: unknown) => e);
    expect(isPlatformError(err, "OCI_DIGEST_MISMATCH")).toBe(true);
    expect(await l.hasBlob(sha256Digest("right"))).toBe(false);
  });

  it("lists referrers by subject among index.json entries", async () => {
    const l = await OciLayout.create(dir);
    const subject = image(1);
    await l.addManifest(subject, MediaType.ociManifest, "v1");
    const sig = encodeJson({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: "application/vnd.cncf.notary.signature",
      config: { mediaType: MediaType.ociEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: [],
      subject: { mediaType: MediaType.ociManifest, digest: sha256Digest(subject), size: subject.byteLength },
    });
    await l.addManifest(sig, MediaType.ociManifest);
    await l.addManifest(sig, MediaType.ociManifest); // listed once
    const refs = await l.listReferrers(sha256Digest(subject));
    expect(refs).toEqual([
      {
        mediaType: MediaType.ociManifest,
        digest: sha256Digest(sig),
        size: sig.byteLength,
        artifactType: "application/vnd.cncf.notary.signature",
      },
    ]);
    expect(await l.listReferrers(sha256Digest(subject), { artifactType: "application/spdx+json" })).toEqual(
      [],
    );
    // The unnamed referrer does not make the layout ambiguous.
    expect((await l.resolve()).digest).toBe(sha256Digest(subject));
  });

  it("refuses a directory that is not a layout", async () => {
    const err = await OciLayout.open(dir).catch((e: unknown) => e);
    expect(isPlatformError(err, "OCI_LAYOUT_INVALID")).toBe(true);
  });
});
