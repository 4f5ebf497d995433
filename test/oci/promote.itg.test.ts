// ACR → ACR promotion: ARM importImage through @azure/arm-containerregistry against the swagger-checked ARM
// fake (the 2025-11-01 resource-manager extract; LRO with Azure-AsyncOperation polling, a 429 first), whose
// handler performs the server-side copy between two REAL registries the way ACR does — manifest tree by
// digest, untagged, WITHOUT referrers. promoteAcrImage must then copy the referrer graph itself and tag last.
import { isPlatformError, memoryLogger, type PlatformError } from "@platform/core";
import { copyImage, parseReference, promoteAcrImage, RegistryClient } from "@platform/oci";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArmFake, startArmFake } from "../fakes/arm/index.ts";
import { type RunningRegistry, requireRegistry, startRegistry } from "../harness/registry.ts";
import { artifact, pushArtifact, pushImage, randomImage } from "./images.ts";

const SPEC =
  "containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/stable/2025-11-01/containerregistry.json";
const SUB = "00000000-0000-0000-0000-00000000c0de";
const SRC_ID = `/subscriptions/${SUB}/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/quarantineacr`;
const armCredential = {
  getToken: async () => ({ token: "arm-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

describe.skipIf(!(requireRegistry("olareg").ok && requireRegistry("distribution").ok))(
  "promoteAcrImage",
  () => {
    let src: RunningRegistry;
    let dst: RunningRegistry;
    let arm: ArmFake;
    let outcome: "Succeeded" | "Failed" = "Succeeded";
    const imports: unknown[] = [];
    const client = new RegistryClient({ log: memoryLogger() });

    beforeAll(async () => {
      [src, dst] = await Promise.all([startRegistry("olareg"), startRegistry("distribution")]);
      arm = await startArmFake({
        specs: [SPEC],
        routes: {
          Registries_ImportImage: async (req, ctx) => {
            const body = req.body as {
              source: { resourceId?: string; sourceImage: string };
              untaggedTargetRepositories?: string[];
              targetTags?: string[];
            };
            imports.push(body);
            if (body.source.resourceId !== SRC_ID)
              return ctx.error(404, "ResourceNotFound", "unknown source registry");
            const [repo, digest] = body.source.sourceImage.split("@");
            const target = body.untaggedTargetRepositories?.[0];
            // ACR's server-side copy: manifest tree by digest, untagged, referrers NOT included.
            if (outcome === "Succeeded") {
              await copyImage(`${src.host}/${repo}@${digest}`, `${dst.host}/${target}`, {
                client,
                referrers: false,
              });
            }
            return ctx.longRunning({
              polls: 2,
              outcome,
              error: { code: "ImportImageFailed", message: "the source image could not be read" },
              result: () => ({}),
            });
          },
        },
      });
    });
    // After every test: the fake saw nothing its spec does not describe (cleared so a failure names its test).
    afterEach(() => expect(arm?.mismatches.splice(0)).toEqual([]));
    afterAll(async () => {
      await Promise.all([src?.stop(), dst?.stop(), arm?.close()]);
    });

    const armTarget = () => ({
      credential: armCredential,
      subscriptionId: SUB,
      resourceGroup: "rg-prod",
      registryName: "prodacr",
      armEndpoint: arm.url,
      ca: arm.ca,
      pollIntervalMs: 1,
      sourceResourceId: SRC_ID,
    });

    it("imports by digest (untagged), then copies the referrer graph and tags last", async () => {
      const img = randomImage([1200, 800]);
      const repo = { registry: src.host, repository: "quarantine/app" };
      await pushImage(client, repo, img);
      const sbom = artifact(img.descriptor, "application/spdx+json", "sbom");
      const sbomSig = artifact(sbom.descriptor, "application/vnd.cncf.notary.signature", "sig-sbom");
      const sig = artifact(img.descriptor, "application/vnd.cncf.notary.signature", "sig");
      for (const a of [sbom, sbomSig, sig]) await pushArtifact(client, repo, a);
      arm.inject({ operationId: "Registries_ImportImage", status: 429, retryAfter: 0 });

      const result = await promoteAcrImage({
        source: `${src.host}/quarantine/app@${img.descriptor.digest}`,
        target: `${dst.host}/prod/app:1.0`,
        client,
        arm: armTarget(),
      });
      expect(result.reference).toBe(`${dst.host}/prod/app@${img.descriptor.digest}`);
      expect(result.tagged).toEqual(["1.0"]);
      expect(result.referrers.map((d) => d.digest).sort()).toEqual(
        [sbom.descriptor.digest, sbomSig.descriptor.digest, sig.descriptor.digest].sort(),
      );
      expect(imports.at(-1)).toEqual({
        source: { sourceImage: `quarantine/app@${img.descriptor.digest}`, resourceId: SRC_ID },
        untaggedTargetRepositories: ["prod/app"],
        mode: "NoForce",
      });
      expect(arm.count("Registries_ImportImage")).toBe(2); // 429, then accepted
      expect(
        arm.requests.filter((r) => r.operationId === "(operation status)").length,
      ).toBeGreaterThanOrEqual(2);
      expect(arm.mismatches).toEqual([]);
      const prod = { registry: dst.host, repository: "prod/app" };
      expect((await client.resolve(`${dst.host}/prod/app:1.0`)).digest).toBe(img.descriptor.digest);
      const refs = await client.listReferrers({ ...prod, digest: img.descriptor.digest });
      expect(refs.mode).toBe("tag");
      expect(refs.descriptors).toHaveLength(2);
      const nested = await client.listReferrers({ ...prod, digest: sbom.descriptor.digest });
      expect(nested.descriptors.map((d) => d.digest)).toEqual([sbomSig.descriptor.digest]);
    });

    it("a failed import (LRO Failed) is a clear error and nothing is tagged", async () => {
      outcome = "Failed";
      const img = randomImage([300]);
      await pushImage(client, { registry: src.host, repository: "quarantine/bad" }, img);
      const err = (await promoteAcrImage({
        source: `${src.host}/quarantine/bad@${img.descriptor.digest}`,
        target: `${dst.host}/prod/bad:1.0`,
        client,
        arm: armTarget(),
      }).catch((e: unknown) => e)) as PlatformError;
      expect(isPlatformError(err, "OCI_IMPORT_FAILED")).toBe(true);
      expect(err.message).toContain("prodacr/prod/bad");
      expect(await client.tryResolve(`${dst.host}/prod/bad:1.0`)).toBeUndefined();
      expect(arm.mismatches).toEqual([]);
      outcome = "Succeeded";
    });

    it("refuses a source without a digest before calling ARM", async () => {
      const before = arm.requests.length;
      await expect(
        promoteAcrImage({
          source: `${src.host}/quarantine/app:latest`,
          target: parseReference(`${dst.host}/prod/app`),
          client,
          arm: armTarget(),
        }),
      ).rejects.toThrow(/has no digest/);
      expect(arm.requests.length).toBe(before);
    });
  },
);
