// The real cosign judges the same keyless bundle and trusted_root.json our verify judges: the trust
// semantics match when cosign accepts what we accept and refuses what we refuse.
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { RegistryClient } from "@platform/oci";
import { GITHUB_OIDC_ISSUER, keylessPolicy, keylessSigning, signImage, verifyImage } from "@platform/signing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { requirePeers } from "../peers/index.ts";
import { pushRandomImage } from "./helpers.ts";
import { type SigstoreFakes, startSigstoreFakes, WORKFLOW_SAN } from "./keyless-fakes.ts";

const run = promisify(execFile);
const peers = requirePeers("olareg", "cosign");

describe.skipIf(!peers.ok)("keyless verification: cosign and our verify agree", () => {
  let reg: RunningRegistry;
  let fakes: SigstoreFakes;
  let dir: string;
  let ref: string;
  /** Signed without Rekor: a TSA timestamp is its only time evidence. */
  let tsaOnly: string;
  const client = new RegistryClient();

  beforeAll(async () => {
    [reg, fakes] = await Promise.all([startRegistry("olareg"), startSigstoreFakes()]);
    dir = await mkdtemp(join(tmpdir(), "keyless-cosign-"));
    ref = await pushRandomImage(client, { registry: reg.host, repository: "interop/keyless" });
    await signImage({
      imageRef: ref,
      format: "cosign",
      cosignLayout: "bundle",
      signer: await keylessSigning({ env: fakes.env }),
      client,
    });
    tsaOnly = await pushRandomImage(client, { registry: reg.host, repository: "interop/keyless" });
    await signImage({
      imageRef: tsaOnly,
      format: "cosign",
      cosignLayout: "bundle",
      signer: await keylessSigning({ env: { ...fakes.env, SIGSTORE_REKOR_URL: "none" } }),
      client,
    });
  });
  afterAll(async () => {
    await reg?.stop();
    await fakes?.close();
  });

  async function cosign(
    root: string,
    identity: string,
    issuer = GITHUB_OIDC_ISSUER,
    extra: string[] = [],
    image = ref,
  ) {
    try {
      const { stdout, stderr } = await run(
        peers.paths.cosign!,
        [
          "verify",
          "--trusted-root",
          root,
          "--certificate-identity",
          identity,
          "--certificate-oidc-issuer",
          issuer,
          "--allow-http-registry",
          ...extra,
          image,
        ],
        { env: { PATH: process.env.PATH ?? "", HOME: dir }, timeout: 60_000 },
      );
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
    }
  }
  const ours = async (
    root: string,
    identity: string,
    issuer = GITHUB_OIDC_ISSUER,
    requireTlog = true,
    image = ref,
  ) =>
    verifyImage({
      imageRef: image,
      client,
      keyless: await keylessPolicy({
        certificateIdentity: identity,
        certificateOidcIssuer: issuer,
        trustedRoot: root,
        requireTlog,
      }),
    });

  it("both accept the workflow identity with the instance's trusted root", async () => {
    const root = await fakes.writeTrustedRoot(join(dir, "trusted_root.json"));
    const c = await cosign(root, WORKFLOW_SAN);
    expect(c.out).toMatch(/Existence of the claims in the transparency log was verified offline/);
    expect(c.out).toMatch(/certificate was verified using trusted certificate authority certificates/);
    expect(c.code, c.out).toBe(0);
    expect((await ours(root, WORKFLOW_SAN)).verified).toBe(true);
  });

  it("both refuse another identity, another issuer and a root without the signing CA", async () => {
    const root = join(dir, "trusted_root.json");
    const foreign = await fakes.writeTrustedRoot(join(dir, "foreign.json"), await fakes.foreignTrustedRoot());
    // Each with cosign's own reason, so a usage or registry error cannot pass for a refusal.
    const cases: Array<[string, string, string | undefined, RegExp]> = [
      [root, `${WORKFLOW_SAN}-other`, undefined, /no matching CertificateIdentity found/],
      [root, WORKFLOW_SAN, "https://accounts.google.com", /no matching CertificateIdentity found/],
      [foreign, WORKFLOW_SAN, undefined, /leaf certificate verification failed/],
    ];
    for (const [r, identity, issuer, why] of cases) {
      const c = await cosign(r, identity, issuer);
      expect(c.code, `cosign accepted ${identity} ${issuer ?? ""} ${r}`).not.toBe(0);
      expect(c.out).toMatch(why);
      expect((await ours(r, identity, issuer)).verified).toBe(false);
    }
  });

  it("without a Rekor entry both refuse, unless the tlog is waived and the TSA timestamp verifies", async () => {
    const root = join(dir, "trusted_root.json");
    const strict = await cosign(root, WORKFLOW_SAN, undefined, [], tsaOnly);
    expect(strict.code, strict.out).not.toBe(0);
    expect(strict.out).toMatch(/not enough verified log entries from transparency log: 0 < 1/);
    const strictOurs = await ours(root, WORKFLOW_SAN, undefined, true, tsaOnly);
    expect(strictOurs.verified).toBe(false);
    expect(strictOurs.checks[0]!.reason).toMatch(/^no tlog evidence/);
    const waived = await cosign(
      root,
      WORKFLOW_SAN,
      undefined,
      ["--insecure-ignore-tlog=true", "--use-signed-timestamps=true"],
      tsaOnly,
    );
    expect(waived.code, waived.out).toBe(0);
    expect((await ours(root, WORKFLOW_SAN, undefined, false, tsaOnly)).verified).toBe(true);
  });
});
