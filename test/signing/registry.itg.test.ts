// sign and verify against real registries: olareg (referrers API) and docker-registry 2.8 (no API: the
// sha256-<hex> tag fallback). Our own verifier here; the peer tools judge the same signatures in interop.
import { readFile } from "node:fs/promises";
import { RegistryClient } from "@platform/oci";
import {
  type GeneratedIdentity,
  generateSigningIdentity,
  loadPemSigner,
  loadTrustStore,
  localSigner,
  parseTrustPolicy,
  signImage,
  verifyImage,
} from "@platform/signing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RegistryKind,
  type RunningRegistry,
  requireRegistry,
  startRegistry,
} from "../harness/registry.ts";
import { cosignKeyPair, type IdentityOnDisk, identityOnDisk, pushRandomImage } from "./helpers.ts";

const SBOM = { bomFormat: "CycloneDX", specVersion: "1.6", version: 1, components: [] };

describe.each(["olareg", "distribution"] as RegistryKind[])("sign + verify on %s", (kind) => {
  const peers = requireRegistry(kind);
  let reg: RunningRegistry;
  let id: IdentityOnDisk;
  let sbomFile: string;
  beforeAll(async () => {
    if (!peers.ok) return;
    reg = await startRegistry(kind);
    id = await identityOnDisk();
    sbomFile = `${id.dir}/sbom.cdx.json`;
    await import("node:fs/promises").then((fs) => fs.writeFile(sbomFile, JSON.stringify(SBOM)));
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it.skipIf(!peers.ok)(
    "signs both formats with SBOM and provenance, verifies, and a re-run adds nothing",
    async () => {
      const client = new RegistryClient();
      const ref = await pushRandomImage(client, { registry: reg.host, repository: "team/app" });
      const signer = await loadPemSigner(id.keyFile, id.chainFile);
      const env = {
        GITHUB_REPOSITORY: "octo-org/app",
        GITHUB_SHA: "a".repeat(40),
        GITHUB_RUN_ID: "42",
        GITHUB_REF: "refs/heads/main",
        GITHUB_WORKFLOW_REF: "octo-org/app/.github/workflows/ci.yml@refs/heads/main",
      };
      const signBoth = () =>
        signImage({
          imageRef: ref,
          format: "both",
          signer,
          client,
          sbom: sbomFile,
          provenance: env,
        });
      const first = await signBoth();
      expect(first.signatures.map((s) => [s.kind, s.mode])).toEqual([
        ["notation", kind === "olareg" ? "api" : "tag"],
        ["cosign-bundle", kind === "olareg" ? "api" : "tag"],
        ["cosign-legacy", "sig-tag"],
      ]);
      expect(first.referrers.map((r) => r.kind)).toEqual(["notation", "cosign-bundle", "sbom", "provenance"]);

      const again = await signBoth();
      expect(again.signatures.map((s) => s.mode)).toEqual(["exists", "exists", "exists"]);
      expect(again.referrers.every((r) => r.mode === "exists")).toBe(true);
      const listed = await client.listReferrers(ref);
      expect(listed.descriptors).toHaveLength(4);

      const verdict = await verifyImage({
        imageRef: ref,
        client,
        notation: {
          policy: parseTrustPolicy(await readFile(id.policyFile, "utf8")),
          store: await loadTrustStore(id.trustStoreDir),
        },
        cosignKeys: [{ name: "signing.key", key: signer.publicKey }],
      });
      expect(verdict.reasons).toEqual([]);
      expect(verdict.verified).toBe(true);
      expect(verdict.signers).toEqual(["C=US, ST=WA, O=Platform Test, CN=platform-signer", "signing.key"]);
      const predicates = verdict.checks
        .filter((c) => c.format === "attestation")
        .map((c) => [c.predicateType, c.ok]);
      expect(predicates).toEqual([
        ["https://cyclonedx.org/bom", true],
        ["https://slsa.dev/provenance/v1", true],
      ]);
    },
  );

  it.skipIf(!peers.ok)("a second key adds its own signature; a tag without digest is refused", async () => {
    const client = new RegistryClient();
    const ref = await pushRandomImage(client, { registry: reg.host, repository: "team/other" }, "v1");
    const signer = await loadPemSigner(id.keyFile, id.chainFile);
    await signImage({ imageRef: ref, format: "notation", signer, client });
    const other: GeneratedIdentity = await generateSigningIdentity({ subject: "CN=second" });
    const second = await signImage({
      imageRef: ref,
      format: "notation",
      signer: localSigner(other.privateKey, other.chain),
      client,
    });
    expect(second.signatures[0]!.mode).toBe(kind === "olareg" ? "api" : "tag");
    expect((await client.listReferrers(ref)).descriptors).toHaveLength(2);
    await expect(
      signImage({ imageRef: `${reg.host}/team/other:v1`, format: "notation", signer, client }),
    ).rejects.toMatchObject({ code: "SIGN_DIGEST_REQUIRED", input: "image-ref" });
  });

  it.skipIf(!peers.ok)("verify says why: no signature, wrong cosign key", async () => {
    const client = new RegistryClient();
    const ref = await pushRandomImage(client, { registry: reg.host, repository: "team/unsigned" });
    const store = await loadTrustStore(id.trustStoreDir);
    const policy = parseTrustPolicy(await readFile(id.policyFile, "utf8"));
    const none = await verifyImage({ imageRef: ref, client, notation: { policy, store } });
    expect(none.verified).toBe(false);
    expect(none.reasons[0]).toMatch(/^no signature: no Notary Project signature/);

    const k = await cosignKeyPair();
    await signImage({ imageRef: ref, format: "cosign", signer: localSigner(k.privateKey), client });
    const wrong = await cosignKeyPair();
    const v = await verifyImage({
      imageRef: ref,
      client,
      cosignKeys: [{ name: "wrong.pub", key: wrong.publicKey }],
    });
    expect(v.verified).toBe(false);
    expect(v.reasons[0]).toMatch(/tampered payload or wrong key/);
  });
});
