import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyImage, type ImageStore, layoutStore } from "./copy.ts";
import { OciLayout } from "./layout.ts";
import { describeBytes, EMPTY_JSON, encodeJson, MediaType } from "./types.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "copy-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("copyImage", () => {
  it("reads each source manifest once, though the root serves its tree, its referrers and its tags", async () => {
    const src = await OciLayout.create(join(dir, "src"));
    const layer = new TextEncoder().encode("layer");
    const config = encodeJson({ architecture: "amd64", os: "linux" });
    await src.writeBlob(layer);
    await src.writeBlob(config);
    await src.writeBlob(EMPTY_JSON);
    const root = await src.addManifest(
      encodeJson({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: describeBytes(config, MediaType.ociConfig),
        layers: [describeBytes(layer, MediaType.ociLayer)],
      }),
      MediaType.ociManifest,
      "v1",
    );
    const sig = await src.addManifest(
      encodeJson({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: "application/vnd.example.sig",
        config: describeBytes(EMPTY_JSON, "application/vnd.oci.empty.v1+json"),
        layers: [describeBytes(EMPTY_JSON, "application/vnd.oci.empty.v1+json")],
        subject: root,
      }),
      MediaType.ociManifest,
    );
    const reads: string[] = [];
    const inner = layoutStore(src);
    const counting: ImageStore = {
      ...inner,
      fetchManifest: (desc) => {
        reads.push(desc.digest);
        return inner.fetchManifest(desc);
      },
    };
    const r = await copyImage(
      { store: counting, reference: "v1" },
      { layout: join(dir, "dst") },
      { referrers: true, tags: ["a", "b"] },
    );
    expect(r.tagged).toEqual(["a", "b"]);
    expect(r.referrers.map((d) => d.digest)).toEqual([sig.digest]);
    expect(reads.sort()).toEqual([root.digest, sig.digest].sort());
  });
});
