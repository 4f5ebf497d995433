// Keyless signing through GitHub OIDC: @sigstore/sign's Fulcio signer and Rekor witness against local
// Fulcio, Rekor and TSA servers (test/signing/keyless-fakes.ts; no network), and the resulting bundle
// verified by the sigstore project's own verifier (@sigstore/verify) with the instance's trusted root.
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keylessSigning, layoutStore, signImage, verifyImage } from "@platform/signing";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layoutWithImages } from "./helpers.ts";
import { type SigstoreFakes, startSigstoreFakes, WORKFLOW_SAN } from "./keyless-fakes.ts";

describe("keyless signing (GitHub OIDC → Fulcio, Rekor)", () => {
  let fakes: SigstoreFakes;

  beforeAll(async () => {
    fakes = await startSigstoreFakes();
  });
  const sigstoreEnv = () => fakes.env;
  afterAll(async () => {
    await fakes?.close();
  });

  it("signs with a Fulcio certificate for the workflow identity, logs in Rekor, and @sigstore/verify accepts it", async () => {
    await signAndVerify();
  });

  async function signAndVerify() {
    const {
      layout,
      digests: [digest],
    } = await layoutWithImages(await mkdtemp(join(tmpdir(), "keyless-")), ["app:1"]);
    const store = layoutStore(layout);

    const keyless = await keylessSigning({
      env: sigstoreEnv(),
    });
    expect(keyless.identity).toBe("octo-org/octo-repo/.github/workflows/deliver.yml@refs/heads/main");
    expect(fakes.gh.minted.at(-1)!.claims.aud).toBe("sigstore");
    const r = await signImage({
      imageRef: `reg.example/app@${digest}`,
      format: "both",
      signer: keyless,
      store,
    });
    expect(r.signatures.map((s) => s.kind)).toEqual(["cosign-bundle"]);
    expect(fakes.fulcio.calls).toEqual(["POST /api/v2/signingCert"]);
    expect(fakes.rekor.calls).toEqual(["POST /api/v1/log/entries"]);
    expect(fakes.tsa.calls).toEqual(["POST /api/v1/timestamp"]);

    const ref = (await store.listReferrers(digest!)).descriptors[0]!;
    const m = (await store.getManifest(ref.digest))!.manifest as { layers: Array<{ digest: string }> };
    const json = JSON.parse(Buffer.from(await store.getBlob(m.layers[0]!.digest)).toString());
    expect(json.verificationMaterial.certificate.rawBytes).toBeTruthy();
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1);

    const entry = json.verificationMaterial.tlogEntries[0];
    expect(entry.kindVersion).toEqual({ kind: "dsse", version: "0.0.1" });
    // The whole evidence, as cosign checks it: the Fulcio chain at the Rekor/TSA time, the SCT, the Rekor
    // entry (inclusion proof and SET over the canonical dsse body), the signature, identity and issuer.
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(fakes.trustedRoot)), {
      tlogThreshold: 1,
      ctlogThreshold: 1,
      timestampThreshold: 2,
    });
    const signer = verifier.verify(toSignedEntity(bundleFromJSON(json)), {
      subjectAlternativeName: new RegExp(`^${WORKFLOW_SAN.replaceAll(".", "\\.")}$`),
      extensions: { issuer: keyless.issuer },
    });
    expect(signer.identity?.subjectAlternativeName).toBe(WORKFLOW_SAN);

    // Given only a cosign key, our verifier says what a keyless bundle needs instead of claiming it checked it.
    const v = await verifyImage({
      imageRef: `reg.example/app@${digest}`,
      store,
      cosignKeys: [{ name: "k", key: generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey }],
    });
    expect(v.verified).toBe(false);
    expect(v.checks[0]!.reason).toMatch(
      /keyless .*certificate-identity, certificate-oidc-issuer and trusted-root/,
    );
  }

  it("refuses keyless Notary Project signatures, naming format", async () => {
    const keyless = await keylessSigning({
      env: sigstoreEnv(),
    });
    await expect(
      signImage({
        imageRef: `reg.example/app@sha256:${"a".repeat(64)}`,
        format: "notation",
        signer: keyless,
        store: {} as never,
      }),
    ).rejects.toMatchObject({ code: "SIGN_KEYLESS_NOTATION", input: "format" });
  });
});
