// Our verify on keyless sigstore bundles, with cosign's trust semantics: the bundles are made by our
// keyless signer against a local sigstore instance (GitHub OIDC, Fulcio, Rekor, TSA: keyless-fakes.ts),
// and checked against that instance's trusted_root.json — chain, SCT, Rekor entry or timestamp,
// signature, identity, issuer and subject digest.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@platform/core";
import { encodeJson, MediaType, sha256Digest } from "@platform/oci";
import {
  type ArtifactStore,
  GITHUB_OIDC_ISSUER,
  keylessPolicy,
  keylessSigning,
  layoutStore,
  type OciManifest,
  runVerify,
  signImage,
  verifyImage,
} from "@platform/signing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../packages/cli/src/main.ts";
import { layoutWithImages } from "./helpers.ts";
import { type SigstoreFakes, startSigstoreFakes, WORKFLOW_SAN } from "./keyless-fakes.ts";

describe("verify keyless sigstore bundles (identity, issuer, trusted root)", () => {
  let fakes: SigstoreFakes;
  let dir: string;
  let rootFile: string;
  let store: ArtifactStore;
  let digests: string[];
  const ref = (d: string) => `reg.example/team/app@${d}`;

  beforeAll(async () => {
    fakes = await startSigstoreFakes();
    dir = await mkdtemp(join(tmpdir(), "keyless-verify-"));
    rootFile = await fakes.writeTrustedRoot(join(dir, "trusted_root.json"));
    const l = await layoutWithImages(join(dir, "layout"), ["app:1", "app:2", "app:3", "app:4", "app:5"]);
    store = layoutStore(l.layout);
    digests = l.digests;
    // app:1 Rekor + TSA (GitHub's and the public instance's usual evidence), app:3 TSA only (no Rekor),
    // app:4 Rekor only; app:2 and app:5 stay unsigned.
    const sign = async (d: string, env: Record<string, string>) =>
      signImage({
        imageRef: ref(d),
        format: "cosign",
        cosignLayout: "bundle",
        signer: await keylessSigning({ env }),
        store,
      });
    await sign(digests[0]!, fakes.env);
    await sign(digests[2]!, { ...fakes.env, SIGSTORE_REKOR_URL: "none" });
    const { SIGSTORE_TSA_URL: _tsa, ...rekorOnly } = fakes.env;
    await sign(digests[3]!, rekorOnly);
  });
  afterAll(async () => {
    await fakes?.close();
  });

  const policy = async (over: Record<string, unknown> = {}) =>
    keylessPolicy({
      certificateIdentity: WORKFLOW_SAN,
      certificateOidcIssuer: GITHUB_OIDC_ISSUER,
      trustedRoot: rootFile,
      ...over,
    });
  const verify = async (digest: string, over: Record<string, unknown> = {}) =>
    verifyImage({ imageRef: ref(digest), store, keyless: await policy(over) });

  it("accepts our keyless bundle for the workflow identity and GitHub's issuer", async () => {
    const v = await verify(digests[0]!);
    expect(v.reasons).toEqual([]);
    expect(v.verified).toBe(true);
    expect(v.signers).toEqual([WORKFLOW_SAN]);
    expect(v.checks).toMatchObject([{ format: "cosign-bundle", ok: true, signer: WORKFLOW_SAN }]);
    // A search pattern, as cosign's --certificate-identity-regexp.
    const re = await verify(digests[0]!, {
      certificateIdentity: undefined,
      certificateIdentityRegexp:
        "^https://github\\.com/octo-org/octo-repo/\\.github/workflows/[^/]+@refs/heads/main$",
    });
    expect(re.verified).toBe(true);
  });

  it("accepts Rekor-only evidence, and TSA-only evidence only when the tlog is not required", async () => {
    expect((await verify(digests[3]!)).verified).toBe(true);
    const tsaOnly = await verify(digests[2]!);
    expect(tsaOnly.verified).toBe(false);
    expect(tsaOnly.checks[0]!.reason).toMatch(/^no tlog evidence: the bundle has no Rekor entry/);
    expect((await verify(digests[2]!, { requireTlog: false })).verified).toBe(true);
  });

  it("rejects another identity, an identity only containing the SAN, and a non-matching regexp", async () => {
    const other = await verify(digests[0]!, {
      certificateIdentity:
        "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
    });
    expect(other.verified).toBe(false);
    expect(other.checks[0]!.reason).toBe(
      `identity mismatch: the certificate is for ${WORKFLOW_SAN}, not https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main`,
    );
    expect(other.reasons[0]).toMatch(/^cosign: 1 signature\(s\), none valid: identity mismatch/);
    // Exact means exact (@sigstore/verify alone would treat a string policy as an unanchored pattern).
    const prefix = await verify(digests[0]!, { certificateIdentity: "https://github.com/octo-org" });
    expect(prefix.checks[0]!.reason).toMatch(/^identity mismatch/);
    const re = await verify(digests[0]!, {
      certificateIdentity: undefined,
      certificateIdentityRegexp: "@refs/tags/v",
    });
    expect(re.checks[0]!.reason).toMatch(/^identity mismatch: .* not matching @refs\/tags\/v$/);
  });

  it("rejects another OIDC issuer", async () => {
    const v = await verify(digests[0]!, { certificateOidcIssuer: "https://accounts.google.com" });
    expect(v.verified).toBe(false);
    expect(v.checks[0]!.reason).toBe(
      `issuer mismatch: the certificate's OIDC issuer is ${GITHUB_OIDC_ISSUER}, not https://accounts.google.com`,
    );
  });

  /** Attaches `from`'s bundle referrer to the image `to`, the bundle edited by `edit` (default unchanged). */
  const copyBundleOnto = async (
    from: string,
    to: string,
    edit?: (bundle: { dsseEnvelope: { payload: string } }) => void,
  ) => {
    const original = (await store.listReferrers(from)).descriptors[0]!;
    const m = (await store.getManifest(original.digest))!.manifest as OciManifest;
    let layer = m.layers[0]!;
    if (edit) {
      const bundle = JSON.parse(Buffer.from(await store.getBlob(layer.digest)).toString());
      edit(bundle);
      const bytes = encodeJson(bundle);
      await store.pushBlob(bytes);
      layer = { ...layer, digest: sha256Digest(bytes), size: bytes.byteLength };
    }
    const target = await store.resolve(to);
    await store.pushReferrer(
      encodeJson({
        ...m,
        layers: [layer],
        subject: { mediaType: target.mediaType, digest: target.digest, size: target.size },
      }),
      MediaType.ociManifest,
    );
  };

  it("rejects a valid bundle attached to another image (digest mismatch)", async () => {
    await copyBundleOnto(digests[0]!, digests[1]!);
    const v = await verify(digests[1]!);
    expect(v.verified).toBe(false);
    expect(v.checks[0]!.signer).toMatch(WORKFLOW_SAN);
    expect(v.checks[0]!.reason).toBe(
      `digest mismatch: the statement is about ${digests[0]}, not ${digests[1]}`,
    );
  });

  it("rejects a trusted root without the Fulcio CA that issued the certificate", async () => {
    const foreign = await fakes.writeTrustedRoot(join(dir, "foreign.json"), await fakes.foreignTrustedRoot());
    const v = await verify(digests[0]!, { trustedRoot: foreign });
    expect(v.verified).toBe(false);
    expect(v.checks[0]!.reason).toMatch(
      /^untrusted CA: the certificate does not chain to a Fulcio CA of .*foreign\.json/,
    );
  });

  it("rejects a tampered statement: the Rekor entry, else the signature, no longer matches", async () => {
    const retarget = (bundle: { dsseEnvelope: { payload: string } }) => {
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString());
      statement.subject[0].digest.sha256 = digests[4]!.slice(7);
      bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
    };
    await copyBundleOnto(digests[0]!, digests[4]!, retarget);
    await copyBundleOnto(digests[2]!, digests[4]!, retarget);
    const v = await verify(digests[4]!, { requireTlog: false });
    expect(v.verified).toBe(false);
    expect(v.checks.map((c) => c.reason).sort()).toEqual([
      expect.stringMatching(/^tampered payload: the DSSE signature does not verify/),
      expect.stringMatching(
        /^transparency log: the Rekor entry does not verify .*DSSE payload hash mismatch/,
      ),
    ]);
  });

  it("needs a trusted root, an identity and an issuer, naming the input", async () => {
    await expect(
      keylessPolicy({ certificateIdentity: WORKFLOW_SAN, certificateOidcIssuer: GITHUB_OIDC_ISSUER }),
    ).rejects.toMatchObject({
      code: "KEYLESS_NO_TRUSTED_ROOT",
      input: "trusted-root",
      hint: /cosign trusted-root create/,
    });
    await expect(policy({ certificateIdentity: undefined })).rejects.toMatchObject({
      input: "certificate-identity",
    });
    await expect(policy({ certificateIdentityRegexp: ".*" })).rejects.toMatchObject({
      message: /exclude each other/,
    });
    await expect(policy({ certificateOidcIssuer: undefined })).rejects.toMatchObject({
      input: "certificate-oidc-issuer",
    });
    await writeFile(join(dir, "not-a-root.json"), JSON.stringify({ keys: [] }));
    await expect(policy({ trustedRoot: join(dir, "not-a-root.json") })).rejects.toMatchObject({
      code: "KEYLESS_TRUSTED_ROOT_INVALID",
      input: "trusted-root",
    });
    await expect(policy({ trustedRoot: join(dir, "missing.json") })).rejects.toMatchObject({
      code: "KEYLESS_TRUSTED_ROOT_UNREADABLE",
    });
  });

  it("takes identity, issuer and trusted root from platform.yaml's signing section; inputs win", async () => {
    const deps = { store, client: undefined as never, log: createLogger({ write() {} }), env: {}, root: dir };
    const signing = {
      identities: [],
      keys: [],
      certificateIdentity: WORKFLOW_SAN,
      certificateOidcIssuer: GITHUB_OIDC_ISSUER,
      trustedRoot: "trusted_root.json",
    };
    const fromConfig = await runVerify({ imageRef: ref(digests[0]!), cosignKey: [], signing }, deps);
    expect(fromConfig.verified).toBe(true);
    const overridden = await runVerify(
      {
        imageRef: ref(digests[0]!),
        cosignKey: [],
        signing,
        keyless: { certificateIdentityRegexp: "release\\.yml" },
      },
      deps,
    );
    expect(overridden.checks[0]!.reason).toMatch(/^identity mismatch/);
  });

  it("platform sign --key keyless and platform verify --certificate-identity … --trusted-root on a layout", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "keyless-cli-"));
    const {
      digests: [d],
    } = await layoutWithImages(join(cwd, "layout"), ["app:1"]);
    await fakes.writeTrustedRoot(join(cwd, "trusted_root.json"));
    const run = async (args: string[]) => {
      let out = "";
      let err = "";
      const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s), env: fakes.env, cwd });
      return { code, out, err };
    };
    const signed = await run([
      "sign",
      "--image-ref",
      ref(d!),
      "--key",
      "keyless",
      "--format",
      "cosign",
      "--layout",
      "layout",
    ]);
    expect(signed.code, signed.err).toBe(0);
    const args = [
      "verify",
      "--image-ref",
      ref(d!),
      "--layout",
      "layout",
      "--certificate-oidc-issuer",
      GITHUB_OIDC_ISSUER,
    ];
    const ok = await run([
      ...args,
      "--certificate-identity",
      WORKFLOW_SAN,
      "--trusted-root",
      "trusted_root.json",
      "--json",
    ]);
    expect(ok.code, ok.err + ok.out).toBe(0);
    expect(JSON.parse(ok.out).signers).toEqual([WORKFLOW_SAN]);
    const wrong = await run([
      ...args,
      "--certificate-identity",
      `${WORKFLOW_SAN}x`,
      "--trusted-root",
      "trusted_root.json",
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/identity mismatch/);
    const noRoot = await run([...args, "--certificate-identity", WORKFLOW_SAN]);
    expect(noRoot.code).not.toBe(0);
    expect(noRoot.err).toMatch(/trusted root/);
  });
});
