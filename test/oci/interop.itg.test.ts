// Interop with real clients, both ways: what our client pushes, skopeo inspects and oras discovers
// (referrers API on olareg, the tag schema on docker-registry); what skopeo copies and oras attaches,
// our client reads (digests verified). Also a proxy that corrupts bodies in transit: every read
// must fail with OCI_DIGEST_MISMATCH and a copy must not tag.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { isPlatformError, memoryLogger } from "@platform/core";
import { copyImage, MediaType, OciLayout, parseManifest, RegistryClient, sha256Digest } from "@platform/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningRegistry, requireRegistry, startRegistry } from "../harness/registry.ts";
import { requirePeers } from "../peers/index.ts";
import { artifact, pushArtifact, pushImage, randomImage } from "./images.ts";

const run = promisify(execFile);
const peers = requirePeers("skopeo", "oras");
const ok = peers.ok && requireRegistry("olareg").ok && requireRegistry("distribution").ok;

interface OrasNode {
  digest: string;
  artifactType?: string;
  referrers: OrasNode[];
}

describe.skipIf(!ok)("interop with skopeo and oras", () => {
  let ola: RunningRegistry;
  let dist: RunningRegistry;
  let tmp: string;
  const c = new RegistryClient({ log: memoryLogger() });
  beforeAll(async () => {
    [ola, dist] = await Promise.all([startRegistry("olareg"), startRegistry("distribution")]);
    tmp = await mkdtemp(join(tmpdir(), "oci-interop-"));
  });
  afterAll(async () => {
    await Promise.all([ola?.stop(), dist?.stop()]);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const skopeo = (...args: string[]) =>
    run(peers.paths.skopeo!, ["--insecure-policy", ...args], { timeout: 60_000, maxBuffer: 10_000_000 });
  const oras = (...args: string[]) =>
    run(peers.paths.oras!, args, {
      timeout: 60_000,
      maxBuffer: 10_000_000,
      env: { ...process.env, HOME: tmp },
    });

  for (const kind of ["olareg", "distribution"] as const) {
    it(`what we push to ${kind}, skopeo inspects and oras discovers (nested referrers)`, async () => {
      const reg = kind === "olareg" ? ola : dist;
      const repo = { registry: reg.host, repository: "ours/app" };
      const img = randomImage([1500, 700]);
      await pushImage(c, repo, img, "v1");
      const sbom = artifact(img.descriptor, "application/spdx+json", "sbom");
      const sig = artifact(sbom.descriptor, "application/vnd.cncf.notary.signature", "sig");
      await pushArtifact(c, repo, sbom);
      await pushArtifact(c, repo, sig);

      const { stdout } = await skopeo("inspect", "--tls-verify=false", `docker://${reg.host}/ours/app:v1`);
      const info = JSON.parse(stdout) as { Digest: string; Layers: string[]; RepoTags: string[] };
      expect(info.Digest).toBe(img.descriptor.digest);
      expect(info.Layers).toEqual(img.layers.map((l) => sha256Digest(l)));
      expect(info.RepoTags).toContain("v1");

      const spec = kind === "olareg" ? "v1.1-referrers-api" : "v1.1-referrers-tag";
      const disc = await oras(
        "discover",
        "--plain-http",
        "--distribution-spec",
        spec,
        "--format",
        "json",
        `${reg.host}/ours/app@${img.descriptor.digest}`,
      );
      const tree = JSON.parse(disc.stdout) as OrasNode;
      expect(tree.referrers.map((r) => [r.digest, r.artifactType])).toEqual([
        [sbom.descriptor.digest, "application/spdx+json"],
      ]);
      expect(tree.referrers[0]!.referrers.map((r) => r.digest)).toEqual([sig.descriptor.digest]);
    });
  }

  it("what skopeo copies (OCI and Docker schema 2) we read and verify; what oras attaches we list", async () => {
    // Our layout → skopeo pushes it to docker-registry, once as OCI and once converted to Docker v2s2.
    const img = randomImage([4000, 100]);
    const dir = join(tmp, "src-layout");
    const layout = await OciLayout.create(dir);
    await layout.writeBlob(img.config);
    for (const l of img.layers) await layout.writeBlob(l);
    await layout.addManifest(img.manifest, MediaType.ociManifest, "v1");
    // --preserve-digests: skopeo would otherwise gzip our uncompressed layers (new digests).
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--preserve-digests",
      `oci:${dir}:v1`,
      `docker://${dist.host}/skopeo/oci:v1`,
    );
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--format",
      "v2s2",
      `oci:${dir}:v1`,
      `docker://${dist.host}/skopeo/docker:v1`,
    );
    const oci = await c.getManifest(`${dist.host}/skopeo/oci:v1`);
    expect(oci.digest).toBe(img.descriptor.digest);
    const docker = await c.getManifest(`${dist.host}/skopeo/docker:v1`);
    expect(docker.mediaType).toBe(MediaType.dockerManifest);
    expect(docker.digest).not.toBe(img.descriptor.digest);
    if (!("layers" in docker.manifest)) throw new Error("expected an image manifest");
    for (const l of docker.manifest.layers) {
      const bytes = await c.getBlob({ registry: dist.host, repository: "skopeo/docker" }, l.digest, l.size);
      expect(bytes.byteLength).toBe(l.size);
    }
    // A Docker v2s2 image copies on by digest like any other.
    const copied = await copyImage(`${dist.host}/skopeo/docker:v1`, `${ola.host}/from-skopeo/app:v1`, {
      client: c,
    });
    expect(copied.mediaType).toBe(MediaType.dockerManifest);

    // oras attaches a referrer through the tag schema on docker-registry; we list it.
    const file = join(tmp, "sbom.json");
    await writeFile(file, '{"spdxVersion":"SPDX-2.3"}');
    await run(
      peers.paths.oras!,
      [
        "attach",
        "--plain-http",
        "--distribution-spec",
        "v1.1-referrers-tag",
        "--artifact-type",
        "application/spdx+json",
        `${dist.host}/skopeo/oci@${img.descriptor.digest}`,
        "sbom.json:application/spdx+json",
      ],
      { cwd: tmp, timeout: 60_000, env: { ...process.env, HOME: tmp } },
    );
    const refs = await c.listReferrers(
      { registry: dist.host, repository: "skopeo/oci", digest: img.descriptor.digest },
      { artifactType: "application/spdx+json" },
    );
    expect(refs.mode).toBe("tag");
    expect(refs.descriptors).toHaveLength(1);

    // skopeo writes an OCI layout from a registry; we open and resolve it.
    const out = join(tmp, "skopeo-layout");
    await skopeo(
      "copy",
      "--src-tls-verify=false",
      `docker://${dist.host}/skopeo/oci:v1`,
      `oci:${out}:copied`,
    );
    // skopeo 1.9 gzips the uncompressed layers on the way (new layer digests); the config is kept.
    const l2 = await OciLayout.open(out);
    const desc = await l2.resolve("copied");
    const written = parseManifest(await l2.readBlob(desc.digest), desc.mediaType).manifest;
    if (!("layers" in written)) throw new Error("expected an image manifest");
    expect(written.config.digest).toBe(sha256Digest(img.config));
    for (const l of written.layers) expect((await l2.readBlob(l.digest)).byteLength).toBe(l.size);
  });

  describe("a proxy that corrupts bodies in transit", () => {
    let proxy: Server;
    let host: string;
    beforeAll(async () => {
      proxy = createServer((req, res) => {
        const up = request(
          {
            host: "127.0.0.1",
            port: Number(ola.host.split(":")[1]),
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (upRes) => {
            const chunks: Buffer[] = [];
            upRes.on("data", (d: Buffer) => chunks.push(d));
            upRes.on("end", () => {
              const body = Buffer.concat(chunks);
              // Flip one byte of every manifest and blob body (GET only), keeping the length.
              if (req.method === "GET" && /\/(manifests|blobs)\//.test(req.url ?? "") && body.length > 1) {
                body[body.length >> 1] = body[body.length >> 1]! ^ 0x20;
              }
              res.writeHead(upRes.statusCode ?? 502, upRes.headers);
              res.end(body);
            });
          },
        );
        req.pipe(up);
      });
      await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
      host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((r) => proxy?.close(() => r()));
    });

    it("every manifest and blob read fails with OCI_DIGEST_MISMATCH; a copy through it tags nothing", async () => {
      const img = randomImage([5000]);
      await pushImage(c, { registry: ola.host, repository: "corrupt/app" }, img, "v1");
      const via = { registry: host, repository: "corrupt/app" };
      const m = await c.getManifest(`${host}/corrupt/app@${img.descriptor.digest}`).catch((e: unknown) => e);
      expect(isPlatformError(m, "OCI_DIGEST_MISMATCH")).toBe(true);
      const b = await c.getBlob(via, sha256Digest(img.layers[0]!)).catch((e: unknown) => e);
      expect(isPlatformError(b, "OCI_DIGEST_MISMATCH")).toBe(true);
      const copy = await copyImage(
        `${host}/corrupt/app@${img.descriptor.digest}`,
        `${dist.host}/corrupt/dst:v1`,
        { client: c },
      ).catch((e: unknown) => e);
      expect(isPlatformError(copy, "OCI_DIGEST_MISMATCH")).toBe(true);
      expect(await c.tryResolve(`${dist.host}/corrupt/dst:v1`)).toBeUndefined();
    });
  });
});
