// The OCI client against REAL registries: olareg (distribution 1.1 with the referrers API, proved at
// start-up) and Debian's docker-registry 2.8 (no referrers API → the sha256-<hex> tag fallback).
import { memoryLogger, PlatformError } from "@platform/core";
import { MediaType, makeReference, RegistryClient, sha256Digest } from "@platform/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RegistryKind,
  type RunningRegistry,
  requireRegistry,
  startRegistry,
} from "../harness/registry.ts";
import { artifact, pushArtifact, pushImage, randomImage } from "./images.ts";

for (const kind of ["olareg", "distribution"] as RegistryKind[]) {
  const peer = requireRegistry(kind);
  describe.skipIf(!peer.ok)(`OCI client against ${kind}`, () => {
    let reg: RunningRegistry;
    beforeAll(async () => {
      reg = await startRegistry(kind);
    });
    afterAll(async () => {
      await reg?.stop();
    });
    const client = () => new RegistryClient({ log: memoryLogger() });

    it("pushes an image by digest and reads it back verified (resolve, manifest, blobs, tags)", async () => {
      const c = client();
      const repo = { registry: reg.host, repository: "team/app" };
      const img = randomImage([3000, 5000]);
      await pushImage(c, repo, img, "v1");
      const byTag = await c.resolve(makeReference(reg.host, "team/app", "v1"));
      expect(byTag).toEqual(img.descriptor);
      const m = await c.getManifest(`${reg.host}/team/app@${img.descriptor.digest}`);
      expect(Buffer.from(m.bytes).equals(Buffer.from(img.manifest))).toBe(true);
      expect(m.mediaType).toBe(MediaType.ociManifest);
      const layer = await c.getBlob(repo, sha256Digest(img.layers[1]!));
      expect(Buffer.from(layer).equals(Buffer.from(img.layers[1]!))).toBe(true);
      expect(await c.listTags(repo)).toContain("v1");
      // Second push: every blob exists → HEADs only, then one manifest PUT.
      const before = { ...c.stats.byMethod };
      await pushImage(c, repo, img);
      expect((c.stats.byMethod.HEAD ?? 0) - (before.HEAD ?? 0)).toBe(3);
      expect((c.stats.byMethod.PUT ?? 0) - (before.PUT ?? 0)).toBe(1);
      expect((c.stats.byMethod.POST ?? 0) - (before.POST ?? 0)).toBe(0);
    });

    it("uploads a large blob in chunks (POST + PATCH… + PUT)", async () => {
      const c = new RegistryClient({ monolithicMaxBytes: 100_000, chunkBytes: 64 * 1024 });
      const repo = { registry: reg.host, repository: "team/chunked" };
      const img = randomImage([300_000]);
      const r = await c.pushBlob(repo, img.layers[0]!);
      expect(r.outcome).toBe("uploaded-chunked");
      expect(c.stats.byMethod.PATCH).toBe(5);
      const back = await c.getBlob(repo, r.digest, 300_000);
      expect(Buffer.from(back).equals(Buffer.from(img.layers[0]!))).toBe(true);
    });

    it("uploads a multi-megabyte blob in one PUT (node:http transport) and streams it back verified", async () => {
      const c = client();
      const repo = { registry: reg.host, repository: "team/big" };
      const [big] = randomImage([3 * 1024 * 1024]).layers;
      const r = await c.pushBlob(repo, big!);
      expect(r.outcome).toBe("uploaded");
      expect(c.stats.byMethod).toMatchObject({ HEAD: 1, POST: 1, PUT: 1 });
      expect(c.stats.bytesSent).toBe(big!.byteLength);
      const back = await c.getBlob(repo, r.digest, big!.byteLength);
      expect(Buffer.from(back).equals(Buffer.from(big!))).toBe(true);
    });

    it("mounts blobs across repositories instead of uploading", async () => {
      const c = client();
      const img = randomImage([4000]);
      await pushImage(c, { registry: reg.host, repository: "quarantine/app" }, img);
      const dst = { registry: reg.host, repository: "prod/app" };
      const r = await c.pushBlob(dst, img.layers[0]!, { mountFrom: ["quarantine/app"] });
      expect(r.outcome).toBe("mounted");
      expect(await c.blobExists(dst, r.digest)).toBe(true);
    });

    it(`attaches and lists referrers (${kind === "olareg" ? "referrers API" : "tag fallback"}), filtered by artifactType, and removes one`, async () => {
      const c = client();
      const repo = { registry: reg.host, repository: "team/signed" };
      const img = randomImage([100]);
      await pushImage(c, repo, img);
      const sig = artifact(img.descriptor, "application/vnd.cncf.notary.signature", "sig", { "x.y": "1" });
      const sbom = artifact(img.descriptor, "application/spdx+json", "sbom");
      const r1 = await pushArtifact(c, repo, sig);
      const r2 = await pushArtifact(c, repo, sbom);
      await pushArtifact(c, repo, sbom); // idempotent: no duplicate
      const expected = kind === "olareg" ? "api" : "tag";
      expect(r1.mode).toBe(expected);
      expect(r2.mode).toBe(expected);
      const subject = { ...repo, digest: img.descriptor.digest };
      const all = await c.listReferrers(subject);
      expect(all.mode).toBe(expected);
      expect(all.descriptors.map((d) => d.digest).sort()).toEqual(
        [sig.descriptor.digest, sbom.descriptor.digest].sort(),
      );
      const sigOnly = await c.listReferrers(subject, {
        artifactType: "application/vnd.cncf.notary.signature",
      });
      expect(sigOnly.descriptors).toHaveLength(1);
      expect(sigOnly.descriptors[0]).toMatchObject({
        digest: sig.descriptor.digest,
        artifactType: "application/vnd.cncf.notary.signature",
        annotations: { "x.y": "1" },
      });
      await c.removeReferrer(repo, img.descriptor.digest, sbom.descriptor.digest, { deleteManifest: true });
      const after = await c.listReferrers(subject);
      expect(after.descriptors.map((d) => d.digest)).toEqual([sig.descriptor.digest]);
      // The fallback index tag exists exactly where there is no referrers API.
      const fallbackTag = `sha256-${img.descriptor.digest.slice(7)}`;
      expect((await c.listTags(repo)).includes(fallbackTag)).toBe(kind === "distribution");
    });

    // Our client maintains the index only in the tag fallback; olareg 0.1.2 keeps its own and itself
    // loses entries to concurrent manifest PUTs (4 of 20 trials of 5 racing pushes lost 1–2).
    // Registered for docker-registry only (not skipped for olareg): it tests our fallback index, not theirs.
    const itFallback = kind === "distribution" ? it : () => {};
    itFallback("concurrent referrer pushes to one subject all end up listed", async () => {
      const repo = { registry: reg.host, repository: "team/busy" };
      const img = randomImage([64]);
      await pushImage(client(), repo, img);
      const arts = Array.from({ length: 5 }, (_, i) =>
        artifact(img.descriptor, "application/vnd.cncf.notary.signature", `sig-${i}`),
      );
      // Separate clients, all at once: on docker-registry they race on the sha256-<hex> index tag.
      await Promise.all(arts.map((a) => pushArtifact(client(), repo, a)));
      const listed = await client().listReferrers({ ...repo, digest: img.descriptor.digest });
      expect(listed.descriptors.map((d) => d.digest).sort()).toEqual(
        arts.map((a) => a.descriptor.digest).sort(),
      );
    });

    it("no referrers: an empty list, not an error", async () => {
      const c = client();
      const img = randomImage([10]);
      const repo = { registry: reg.host, repository: "team/lonely" };
      await pushImage(c, repo, img);
      expect((await c.listReferrers({ ...repo, digest: img.descriptor.digest })).descriptors).toEqual([]);
    });

    it("rejects a manifest whose blobs are missing with a clear error", async () => {
      const c = client();
      const img = randomImage([10]);
      const err = await c
        .putManifest({ registry: reg.host, repository: "team/broken" }, img.manifest, MediaType.ociManifest)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlatformError);
      expect((err as PlatformError).message).toMatch(/HTTP 400|BLOB_UNKNOWN|MANIFEST/);
    });

    it("a missing manifest is OCI_NOT_FOUND", async () => {
      const err = await client()
        .resolve(`${reg.host}/team/none:nope`)
        .catch((e: unknown) => e);
      expect((err as PlatformError).code).toBe("OCI_NOT_FOUND");
    });
  });
}
