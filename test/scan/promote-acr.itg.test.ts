// ACR → ACR promotion from build-scan: the registries are found by login server through Resource Graph and
// the digest is promoted with ARM importImage (@azure/arm-containerregistry against the swagger-checked ARM
// fake, whose handler copies between two REAL registries the way ACR does: by digest, untagged, without
// referrers), then build-scan's promotion copies the referrer graph and tags nothing it was not asked to.
// A failing gate never reaches ARM.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "@platform/core";
import { copyImage, RegistryClient } from "@platform/oci";
import { acrLookup, buildScan, resourceGraphClient, spawnExec } from "@platform/scan";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArmFake, startArmFake } from "../fakes/arm/index.ts";
import { type RunningRegistry, requireRegistry, startRegistry } from "../harness/registry.ts";
import { artifact, pushArtifact, pushImage, randomImage } from "../oci/images.ts";

const ACR_SPEC =
  "containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/stable/2025-11-01/containerregistry.json";
const RG_SPEC = "resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/2024-04-01/resourcegraph.json";
const SUB = "00000000-0000-0000-0000-0000000a11ce";
const credential = {
  getToken: async () => ({ token: "arm-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const registryId = (rg: string, name: string) =>
  `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ContainerRegistry/registries/${name}`;

describe.skipIf(!(requireRegistry("olareg").ok && requireRegistry("distribution").ok))(
  "build-scan promotion between two ACRs",
  () => {
    let src: RunningRegistry;
    let dst: RunningRegistry;
    let arm: ArmFake;
    let ws: string;
    const client = new RegistryClient({ log: memoryLogger() });
    const imports: Array<{
      source: { resourceId: string; sourceImage: string };
      untaggedTargetRepositories: string[];
    }> = [];

    beforeAll(async () => {
      [src, dst] = await Promise.all([startRegistry("olareg"), startRegistry("distribution")]);
      const acrs: Record<string, { id: string; name: string; resourceGroup: string }> = {
        [src.host]: {
          id: registryId("rg-build", "quarantineacr"),
          name: "quarantineacr",
          resourceGroup: "rg-build",
        },
        [dst.host]: { id: registryId("rg-prod", "prodacr"), name: "prodacr", resourceGroup: "rg-prod" },
      };
      arm = await startArmFake({
        specs: [ACR_SPEC, RG_SPEC],
        routes: {
          Resources: (req) => {
            const host = /loginServer\)\) == "([^"]+)"/.exec((req.body as { query: string }).query)?.[1];
            const acr = host ? acrs[host] : undefined;
            const data = acr ? [{ ...acr, subscriptionId: SUB }] : [];
            return {
              status: 200,
              body: { totalRecords: data.length, count: data.length, resultTruncated: "false", data },
            };
          },
          Registries_ImportImage: async (req, ctx) => {
            const body = req.body as (typeof imports)[number];
            imports.push(body);
            const from = Object.entries(acrs).find(([, a]) => a.id === body.source.resourceId)?.[0];
            if (!from || req.params.registryName !== "prodacr")
              return ctx.error(404, "ResourceNotFound", "unknown registry");
            const [repo, digest] = body.source.sourceImage.split("@");
            await copyImage(
              `${from}/${repo}@${digest}`,
              `${dst.host}/${body.untaggedTargetRepositories[0]}`,
              {
                client,
                referrers: false,
              },
            );
            return ctx.longRunning({ polls: 1, result: () => ({}) });
          },
        },
      });
      ws = await mkdtemp(join(tmpdir(), "promote-acr-"));
      await writeFile(
        join(ws, "clean.json"),
        JSON.stringify({ SchemaVersion: 2, ArtifactName: "app", Results: [] }),
      );
      await writeFile(
        join(ws, "critical.json"),
        JSON.stringify({
          SchemaVersion: 2,
          Results: [
            {
              Target: "app (debian 12)",
              Class: "os-pkgs",
              Type: "debian",
              Vulnerabilities: [
                {
                  VulnerabilityID: "CVE-2024-6387",
                  PkgName: "openssh-server",
                  InstalledVersion: "1:9.2p1-2",
                  FixedVersion: "1:9.2p1-2+deb12u3",
                  Status: "fixed",
                  Severity: "CRITICAL",
                },
              ],
            },
          ],
        }),
      );
    });
    // After every test: the fake saw nothing its spec does not describe (cleared so a failure names its test).
    afterEach(() => expect(arm?.mismatches.splice(0)).toEqual([]));
    afterAll(async () => {
      await Promise.all([src?.stop(), dst?.stop(), arm?.close()]);
      if (ws) await rm(ws, { recursive: true, force: true });
    });

    /** An image with an SBOM and a signature (and a signature on the SBOM), as an OCI layout. */
    async function layoutWithReferrers(name: string) {
      const img = randomImage([700, 300]);
      const staging = { registry: src.host, repository: `staging/${name}` };
      await pushImage(client, staging, img);
      const sbom = artifact(img.descriptor, "application/spdx+json", "sbom");
      for (const a of [
        sbom,
        artifact(sbom.descriptor, "application/vnd.cncf.notary.signature", "s1"),
        artifact(img.descriptor, "application/vnd.cncf.notary.signature", "s2"),
      ])
        await pushArtifact(client, staging, a);
      const dir = join(ws, name);
      await copyImage(
        `${src.host}/staging/${name}@${img.descriptor.digest}`,
        { layout: dir, reference: "app" },
        { client },
      );
      return { dir, digest: img.descriptor.digest };
    }

    const deps = () => {
      const graph = () => resourceGraphClient(credential, { endpoint: arm.url, ca: arm.ca });
      return {
        client,
        exec: spawnExec,
        log: memoryLogger(),
        tempDir: ws,
        env: process.env,
        today: new Date("2026-11-25T00:00:00Z"),
        version: "test",
        graph,
        acr: {
          // The test registries listen on 127.0.0.1: say which hosts are "ACRs" here; the lookup is the real one.
          lookup: acrLookup(graph, [SUB], (host) => host === src.host || host === dst.host),
          arm: { credential, armEndpoint: arm.url, ca: arm.ca, pollIntervalMs: 1 },
        },
      };
    };
    const input = (from: string, report: string) => ({
      context: ".",
      image: `${src.host}/quarantine/app`,
      tags: [],
      builder: "auto" as const,
      from,
      scanner: "trivy" as const,
      scanReport: report,
      // The reports are written before the push, so they name no digest; binding is tested in packages/scan.
      allowUnboundReport: true,
      failOn: "high" as const,
      onlyFixed: false,
      promoteTo: `${dst.host}/prod/app`,
      subscriptions: [SUB],
      root: ws,
    });

    it("imports by digest through ARM, then copies the referrer graph", async () => {
      const { dir, digest } = await layoutWithReferrers("ok");
      const r = await buildScan(input(dir, "clean.json"), deps());
      expect(r.failure).toBeUndefined();
      expect(r.digest).toBe(digest);
      expect(r.promotedRef).toBe(`${dst.host}/prod/app@${digest}`);
      expect(r.promotion).toEqual({ via: "importImage", referrers: 3 });
      expect(imports.at(-1)).toMatchObject({
        source: {
          resourceId: registryId("rg-build", "quarantineacr"),
          sourceImage: `quarantine/app@${digest}`,
        },
        untaggedTargetRepositories: ["prod/app"],
      });
      expect((await client.resolve(`${dst.host}/prod/app@${digest}`)).digest).toBe(digest);
      const refs = await client.listReferrers({ registry: dst.host, repository: "prod/app", digest });
      expect(refs.descriptors).toHaveLength(2);
      expect(arm.count("Resources")).toBe(2); // one lookup per registry
      expect(arm.mismatches).toEqual([]);
    });

    it("a failing gate never reaches ARM and promotes nothing", async () => {
      const { dir, digest } = await layoutWithReferrers("bad");
      const before = { imports: arm.count("Registries_ImportImage"), lookups: arm.count("Resources") };
      const r = await buildScan(
        {
          ...input(dir, "critical.json"),
          image: `${src.host}/quarantine/bad`,
          promoteTo: `${dst.host}/prod/bad`,
        },
        deps(),
      );
      expect(r.failure?.code).toBe("SCAN_GATE_FAILED");
      expect(r.promotedRef).toBeUndefined();
      expect(arm.count("Registries_ImportImage")).toBe(before.imports);
      expect(arm.count("Resources")).toBe(before.lookups);
      expect(await client.tryResolve(`${dst.host}/prod/bad@${digest}`)).toBeUndefined();
    });
  },
);
