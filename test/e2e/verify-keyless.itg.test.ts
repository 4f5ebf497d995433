// actions/sign (key: keyless) and actions/verify (certificate-identity, certificate-oidc-issuer,
// trusted-root) as GitHub runs them (bundled, INPUT_* env), against a real olareg and a local sigstore
// instance (GitHub OIDC, Fulcio, Rekor, TSA fakes; test/signing/keyless-fakes.ts).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryClient } from "@platform/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoLeaks } from "../harness/leaks.ts";
import { type RunningRegistry, requireRegistry, startRegistry } from "../harness/registry.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { pushRandomImage } from "../signing/helpers.ts";
import { type SigstoreFakes, startSigstoreFakes, WORKFLOW_SAN } from "../signing/keyless-fakes.ts";

const peers = requireRegistry("olareg");
const ISSUER = "https://token.actions.githubusercontent.com";

describe.skipIf(!peers.ok)("keyless sign and verify bundled actions", () => {
  let reg: RunningRegistry;
  let fakes: SigstoreFakes;
  let ws: string;
  let signed: string;
  const client = new RegistryClient();

  beforeAll(async () => {
    reg = await startRegistry("olareg");
    fakes = await startSigstoreFakes();
    ws = await mkdtemp(join(tmpdir(), "keyless-ws-"));
    await fakes.writeTrustedRoot(join(ws, "trusted_root.json"));
    await fakes.writeTrustedRoot(join(ws, "foreign_root.json"), await fakes.foreignTrustedRoot());
    signed = await pushRandomImage(client, { registry: reg.host, repository: "team/keyless" });
    const sign = await runBundledAction(
      "sign",
      { "image-ref": signed, key: "keyless", format: "cosign", provenance: "false" },
      { workspace: ws, env: fakes.env },
    );
    expect(sign.code, sign.stdout + sign.stderr).toBe(0);
    expect(JSON.parse(sign.outputs.signatures!)).toMatchObject([{ kind: "cosign-bundle", mode: "api" }]);
    // The job's OIDC request token and the sigstore-audience token it minted never show in the run.
    expect(fakes.gh.minted.length).toBeGreaterThan(0);
    expectNoLeaks(sign, [fakes.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, ...fakes.gh.minted.map((m) => m.token)]);
  });
  afterAll(async () => {
    await reg?.stop();
    await fakes?.close();
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  const verify = (imageRef: string, extra: Record<string, string> = {}) =>
    runBundledAction(
      "verify",
      {
        "image-ref": imageRef,
        "certificate-identity": WORKFLOW_SAN,
        "certificate-oidc-issuer": ISSUER,
        "trusted-root": "trusted_root.json",
        ...extra,
      },
      { workspace: ws },
    );
  const failure = (r: Awaited<ReturnType<typeof verify>>) => r.annotations.map((a) => a.message).join("\n");

  it("verifies the keyless signature for the workflow identity and GitHub's issuer", async () => {
    const v = await verify(signed);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.outputs.verified).toBe("true");
    expect(JSON.parse(v.outputs.signers!)).toEqual([WORKFLOW_SAN]);
    expect(v.summary).toMatch(/✅ Verified/);
  });

  it("fails the step with the reason: wrong identity, wrong issuer, foreign root, unsigned image", async () => {
    const identity = await verify(signed, {
      "certificate-identity":
        "https://github.com/octo-org/other/.github/workflows/deliver.yml@refs/heads/main",
    });
    expect(identity.code).not.toBe(0);
    expect(identity.outputs.verified).toBe("false");
    expect(failure(identity)).toMatch(
      /identity mismatch: the certificate is for https:\/\/github.com\/octo-org\/octo-repo/,
    );

    const issuer = await verify(signed, { "certificate-oidc-issuer": "https://gitlab.com" });
    expect(issuer.outputs.verified).toBe("false");
    expect(failure(issuer)).toMatch(/issuer mismatch: .* not https:\/\/gitlab.com/);

    const root = await verify(signed, { "trusted-root": "foreign_root.json" });
    expect(root.outputs.verified).toBe("false");
    expect(failure(root)).toMatch(/untrusted CA/);

    const unsigned = await pushRandomImage(client, { registry: reg.host, repository: "team/keyless" });
    const none = await verify(unsigned);
    expect(none.outputs.verified).toBe("false");
    expect(failure(none)).toMatch(/no signature: no cosign signature/);
  });

  it("takes the keyless policy from platform.yaml, and without a trusted root says how to get one", async () => {
    await writeFile(
      join(ws, "platform.yaml"),
      `signing:\n  certificateIdentity: ${WORKFLOW_SAN}\n  certificateOidcIssuer: ${ISSUER}\n  trustedRoot: trusted_root.json\n`,
    );
    const fromConfig = await runBundledAction("verify", { "image-ref": signed }, { workspace: ws });
    expect(fromConfig.code, fromConfig.stdout).toBe(0);
    expect(fromConfig.outputs.verified).toBe("true");
    await rm(join(ws, "platform.yaml"));

    const noRoot = await verify(signed, { "trusted-root": "" });
    expect(noRoot.code).not.toBe(0);
    expect(noRoot.outputs.verified).toBeUndefined();
    expect(noRoot.stdout).toMatch(/trusted-root/);
    expect(noRoot.stdout).toMatch(/cosign trusted-root create/);
  });
});
