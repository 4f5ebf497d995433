// Copy and promotion by digest against REAL registries (olareg with the referrers API, docker-registry
// 2.8 with the tag fallback) and OCI layouts on disk: blobs mounted within a registry, the referrer
// graph (a signature on an SBOM on the image) copied recursively, tags set only at the end.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "@platform/core";
import { copyImage, MediaType, OciLayout, RegistryClient } from "@platform/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningRegistry, requireRegistry, startRegistry } from "../harness/registry.ts";
import { artifact, pushArtifact, pushImage, randomImage, randomIndex } from "./images.ts";

const ok = requireRegistry("olareg").ok && requireRegistry("distribution").ok;

describe.skipIf(!ok)("copyImage", () => {
  let ola: RunningRegistry;
  let dist: RunningRegistry;
  let tmp: string;
  beforeAll(async () => {
    [ola, dist] = await Promise.all([startRegistry("olareg"), startRegistry("distribution")]);
    tmp = await mkdtemp(join(tmpdir(), "oci-copy-"));
  });
  afterAll(async () => {
    await Promise.all([ola?.stop(), dist?.stop()]);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** An image with an SBOM referrer and a signature on the SBOM and one on the image. */
  async function seed(c: RegistryClient, host: string, repository: string) {
    const repo = { registry: host, repository };
    const img = randomImage([2000, 3000]);
    await pushImage(c, repo, img, "candidate");
    const sbom = artifact(img.descriptor, "application/spdx+json", "sbom");
    const sbomSig = artifact(sbom.descriptor, "application/vnd.cncf.notary.signature", "sig-of-sbom");
    const sig = artifact(img.descriptor, "application/vnd.cncf.notary.signature", "sig");
    for (const a of [sbom, sbomSig, sig]) await pushArtifact(c, repo, a);
    return { img, sbom, sbomSig, sig };
  }

  for (const kind of ["olareg", "distribution"] as const) {
    it(`promotes within one ${kind} registry: blobs mounted, referrer graph copied, tag last`, async () => {
      const reg = kind === "olareg" ? ola : dist;
      const c = new RegistryClient({ log: memoryLogger() });
      const { img, sbom, sbomSig, sig } = await seed(c, reg.host, "quarantine/app");
      const r = await copyImage(
        `${reg.host}/quarantine/app@${img.descriptor.digest}`,
        `${reg.host}/prod/app:1.0`,
        {
          client: c,
          referrers: true,
        },
      );
      expect(r.digest).toBe(img.descriptor.digest);
      expect(r.reference).toBe(`${reg.host}/prod/app@${img.descriptor.digest}`);
      expect(r.blobs.uploaded).toBe(0);
      expect(r.blobs.mounted).toBeGreaterThanOrEqual(4); // config, 2 layers, the artifacts' layers
      expect(r.tagged).toEqual(["1.0"]);
      expect(r.referrers.map((d) => d.digest).sort()).toEqual(
        [sbom.descriptor.digest, sbomSig.descriptor.digest, sig.descriptor.digest].sort(),
      );
      const prod = { registry: reg.host, repository: "prod/app" };
      expect((await c.resolve(`${reg.host}/prod/app:1.0`)).digest).toBe(img.descriptor.digest);
      const direct = await c.listReferrers({ ...prod, digest: img.descriptor.digest });
      expect(direct.descriptors.map((d) => d.digest).sort()).toEqual(
        [sbom.descriptor.digest, sig.descriptor.digest].sort(),
      );
      const nested = await c.listReferrers({ ...prod, digest: sbom.descriptor.digest });
      expect(nested.descriptors.map((d) => d.digest)).toEqual([sbomSig.descriptor.digest]);
    });
  }

  it("copies across registries (olareg API → docker-registry fallback) by streaming blobs", async () => {
    const c = new RegistryClient({ log: memoryLogger() });
    const { img, sbomSig } = await seed(c, ola.host, "src/app");
    const r = await copyImage(`${ola.host}/src/app:candidate`, `${dist.host}/dst/app`, { client: c });
    expect(r.blobs.mounted).toBe(0);
    expect(r.blobs.uploaded).toBeGreaterThanOrEqual(4);
    expect(r.tagged).toEqual([]);
    const nested = await c.listReferrers({
      registry: dist.host,
      repository: "dst/app",
      digest: img.descriptor.digest,
    });
    expect(nested.mode).toBe("tag");
    expect(nested.descriptors).toHaveLength(2);
    expect(r.referrers.map((d) => d.digest)).toContain(sbomSig.descriptor.digest);
    // Again: everything is there → nothing uploaded.
    const again = await copyImage(`${ola.host}/src/app:candidate`, `${dist.host}/dst/app`, { client: c });
    expect(again.blobs.uploaded).toBe(0);
  });

  it("registry → OCI layout → registry, with referrers, and the layout is a valid one", async () => {
    const c = new RegistryClient({ log: memoryLogger() });
    const { img, sbom } = await seed(c, ola.host, "layout/src");
    const dir = join(tmp, "layout");
    const out = await copyImage(
      `${ola.host}/layout/src@${img.descriptor.digest}`,
      { layout: dir, reference: "v1" },
      {
        client: c,
      },
    );
    expect(out.referrers).toHaveLength(3);
    const layout = await OciLayout.open(dir);
    expect(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    expect((await layout.resolve("v1")).digest).toBe(img.descriptor.digest);
    expect((await layout.listReferrers(img.descriptor.digest)).map((d) => d.digest)).toContain(
      sbom.descriptor.digest,
    );
    // Back into a fallback registry.
    const back = await copyImage({ layout: dir, reference: "v1" }, `${dist.host}/from-layout/app:v1`, {
      client: c,
    });
    expect(back.digest).toBe(img.descriptor.digest);
    expect(back.referrers).toHaveLength(3);
    const m = await c.getManifest(`${dist.host}/from-layout/app:v1`);
    expect(m.mediaType).toBe(MediaType.ociManifest);
    expect(Buffer.from(m.bytes).equals(Buffer.from(img.manifest))).toBe(true);
  });

  it("a failed copy tags nothing", async () => {
    const c = new RegistryClient({ log: memoryLogger() });
    const img = randomImage([100]);
    // The destination refuses every blob upload (a 403 on the final PUT).
    await c.pushBlob({ registry: ola.host, repository: "broken/src" }, img.config);
    await c.pushBlob({ registry: ola.host, repository: "broken/src" }, img.layers[0]!);
    await c.putManifest(
      { registry: ola.host, repository: "broken/src" },
      img.manifest,
      MediaType.ociManifest,
      "v1",
    );
    const failing = new RegistryClient({
      fetch: (input, init) =>
        String(input).includes("/blobs/uploads/") && init?.method === "PUT"
          ? Promise.resolve(new Response('{"errors":[{"code":"DENIED","message":"quota"}]}', { status: 403 }))
          : fetch(input, init),
    });
    await expect(
      copyImage(`${ola.host}/broken/src:v1`, `${dist.host}/broken/dst:v1`, { client: failing }),
    ).rejects.toThrow(/denied/);
    expect(await c.tryResolve(`${dist.host}/broken/dst:v1`)).toBeUndefined();
    expect(await c.tryResolve(`${dist.host}/broken/dst@${img.descriptor.digest}`)).toBeUndefined();
  });

  it("copies a multi-platform index: children by digest, a child's referrer too, the tag last", async () => {
    const c = new RegistryClient({ log: memoryLogger() });
    const idx = randomIndex();
    const srcRepo = { registry: ola.host, repository: "multi/src" };
    for (const img of idx.images) await pushImage(c, srcRepo, img);
    await c.putManifest(srcRepo, idx.manifest, MediaType.ociIndex, "v1");
    // A signature on the index and an SBOM on the arm64 child.
    const sig = artifact(idx.descriptor, "application/vnd.cncf.notary.signature", "sig-index");
    const sbom = artifact(idx.images[1]!.descriptor, "application/spdx+json", "sbom-arm64");
    await pushArtifact(c, srcRepo, sig);
    await pushArtifact(c, srcRepo, sbom);
    const r = await copyImage(`${ola.host}/multi/src:v1`, `${dist.host}/multi/dst:v1`, { client: c });
    expect(r.mediaType).toBe(MediaType.ociIndex);
    expect(r.manifests).toBe(5); // index, two children, two referrers
    expect(r.referrers.map((d) => d.digest).sort()).toEqual(
      [sig.descriptor.digest, sbom.descriptor.digest].sort(),
    );
    const dst = { registry: dist.host, repository: "multi/dst" };
    for (const img of idx.images) {
      const m = await c.getManifest(`${dist.host}/multi/dst@${img.descriptor.digest}`);
      expect(m.digest).toBe(img.descriptor.digest);
    }
    expect((await c.resolve(`${dist.host}/multi/dst:v1`)).digest).toBe(idx.descriptor.digest);
    const childRefs = await c.listReferrers({ ...dst, digest: idx.images[1]!.descriptor.digest });
    expect(childRefs.descriptors.map((d) => d.digest)).toEqual([sbom.descriptor.digest]);
  });

  it("works over IPv6 loopback ([::1]:port references)", async (ctx) => {
    // Only a machine without an IPv6 loopback skips (visibly, and never with CI=true); a registry that
    // fails to start on [::1] where it exists is a failure.
    if (!(await ipv6Loopback())) {
      if (process.env.CI === "true") throw new Error("no IPv6 loopback ([::1]) here (CI=true: an error)");
      ctx.skip();
    }
    const v6 = await startRegistry("olareg", { ipv6: true });
    try {
      expect(v6.host).toMatch(/^\[::1\]:\d+$/);
      const c = new RegistryClient({ log: memoryLogger() });
      const img = randomImage([500]);
      await pushImage(c, { registry: v6.host, repository: "six/app" }, img, "v1");
      expect((await c.resolve(`${v6.host}/six/app:v1`)).digest).toBe(img.descriptor.digest);
      const out = await copyImage(`${v6.host}/six/app:v1`, `${ola.host}/from-six/app:v1`, { client: c });
      expect(out.digest).toBe(img.descriptor.digest);
    } finally {
      await v6.stop();
    }
  });
});

/** Whether this machine can listen on [::1]. */
function ipv6Loopback(): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once("error", () => done(false));
    probe.listen(0, "::1", () => probe.close(() => done(true)));
  });
}
