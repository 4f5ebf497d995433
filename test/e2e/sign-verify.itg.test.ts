// actions/sign and actions/verify as GitHub runs them (bundled, INPUT_* env), against a real olareg.
import { createPublicKey } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryClient } from "@platform/oci";
import { publicKeyPem } from "@platform/signing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoLeaks } from "../harness/leaks.ts";
import { type RunningRegistry, requireRegistry, startRegistry } from "../harness/registry.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { cosignKeyPair, identityOnDisk, pushRandomImage } from "../signing/helpers.ts";

const peers = requireRegistry("olareg");

describe.skipIf(!peers.ok)("sign and verify bundled actions", () => {
  let reg: RunningRegistry;
  let ws: string;
  const client = new RegistryClient();

  beforeAll(async () => {
    reg = await startRegistry("olareg");
    ws = await mkdtemp(join(tmpdir(), "sign-ws-"));
    const id = await identityOnDisk();
    await cp(id.keyFile, join(ws, "signing.key"));
    await cp(id.chainFile, join(ws, "signing.crt"));
    await cp(id.trustStoreDir, join(ws, "trust-store"), { recursive: true });
    await cp(id.policyFile, join(ws, "trustpolicy.json"));
    await writeFile(join(ws, "cosign.pub"), publicKeyPem(createPublicKey(id.privateKey)));
    await writeFile(join(ws, "other.pub"), publicKeyPem((await cosignKeyPair()).publicKey));
    await writeFile(
      join(ws, "sbom.json"),
      JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", components: [] }),
    );
  });
  afterAll(async () => {
    await reg?.stop();
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  /** Runs the sign action; the signing key never shows in its log, summary or outputs. */
  const sign = async (imageRef: string, extra: Record<string, string> = {}) => {
    const r = await runBundledAction(
      "sign",
      {
        "image-ref": imageRef,
        key: "signing.key",
        "certificate-chain": "signing.crt",
        sbom: "sbom.json",
        ...extra,
      },
      { workspace: ws },
    );
    expectNoLeaks(r, [await readFile(join(ws, "signing.key"), "utf8")]);
    return r;
  };
  const verify = (imageRef: string, extra: Record<string, string> = {}) =>
    runBundledAction(
      "verify",
      {
        "image-ref": imageRef,
        "trust-policy": "trustpolicy.json",
        "trust-store": "trust-store",
        "cosign-key": "cosign.pub",
        ...extra,
      },
      { workspace: ws },
    );

  it("signs (notation + cosign, SBOM, provenance), verifies, and a re-run adds no duplicate", async () => {
    const ref = await pushRandomImage(client, { registry: reg.host, repository: "team/app" });
    const first = await sign(ref);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const sigs = JSON.parse(first.outputs.signatures!);
    expect(sigs.map((s: { kind: string; mode: string }) => `${s.kind}:${s.mode}`)).toEqual([
      "notation:api",
      "cosign-bundle:api",
      "cosign-legacy:sig-tag",
    ]);
    expect(JSON.parse(first.outputs.referrers!).map((r: { kind: string }) => r.kind)).toEqual([
      "notation",
      "cosign-bundle",
      "sbom",
      "provenance",
    ]);
    expect(first.summary).toMatch(/^## ✅ Signed .*team\/app@sha256:[0-9a-f]{12}$/m);

    const again = await sign(ref);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.outputs.signatures!).every((s: { mode: string }) => s.mode === "exists")).toBe(
      true,
    );
    expect((await client.listReferrers(ref)).descriptors).toHaveLength(4);

    const v = await verify(ref);
    expect(v.code, v.stdout).toBe(0);
    expect(v.outputs.verified).toBe("true");
    expect(JSON.parse(v.outputs.signers!)).toEqual([
      "C=US, ST=WA, O=Platform Test, CN=platform-signer",
      "cosign.pub",
    ]);
    expect(v.summary).toMatch(/✅ Verified/);
  });

  it("verifies with the identities and keys of platform.yaml's signing section and a trust store", async () => {
    const ref = await pushRandomImage(client, { registry: reg.host, repository: "team/config" });
    expect((await sign(ref)).code).toBe(0);
    await writeFile(
      join(ws, "signing.yaml"),
      "signing:\n  identities: ['C=US, ST=WA, O=Platform Test, CN=platform-signer']\n  keys: [cosign.pub]\n",
    );
    const v = await runBundledAction(
      "verify",
      { "image-ref": ref, "trust-store": "trust-store", config: "signing.yaml" },
      { workspace: ws },
    );
    expect(v.code, v.stdout).toBe(0);
    expect(JSON.parse(v.outputs.signers!)).toEqual([
      "C=US, ST=WA, O=Platform Test, CN=platform-signer",
      "cosign.pub",
    ]);
    await writeFile(
      join(ws, "signing.yaml"),
      "signing:\n  identities: ['C=US, ST=WA, O=Someone Else, CN=x']\n",
    );
    const other = await runBundledAction(
      "verify",
      { "image-ref": ref, "trust-store": "trust-store", config: "signing.yaml" },
      { workspace: ws },
    );
    expect(other.outputs.verified).toBe("false");
    expect(other.annotations.map((a) => a.message).join("\n")).toMatch(/untrusted identity/);
  });

  it("refuses to sign a tag, naming image-ref", async () => {
    await pushRandomImage(client, { registry: reg.host, repository: "team/tagged" }, "v1");
    const r = await sign(`${reg.host}/team/tagged:v1`);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/image-ref .* has no digest/);
    expect(r.outputs.signatures).toBeUndefined();
  });

  it("fails verification with the reason: no signature, wrong cosign key", async () => {
    const ref = await pushRandomImage(client, { registry: reg.host, repository: "team/unsigned" });
    const none = await verify(ref);
    expect(none.code).not.toBe(0);
    expect(none.outputs.verified).toBe("false");
    expect(none.annotations.map((a) => a.message).join("\n")).toMatch(
      /no signature: no Notary Project signature/,
    );

    const signed = await pushRandomImage(client, { registry: reg.host, repository: "team/wrongkey" });
    expect((await sign(signed, { format: "cosign" })).code).toBe(0);
    const wrong = await verify(signed, { "trust-policy": "", "trust-store": "", "cosign-key": "other.pub" });
    expect(wrong.outputs.verified).toBe("false");
    expect(wrong.annotations.map((a) => a.message).join("\n")).toMatch(/tampered payload or wrong key/);
  });
});
