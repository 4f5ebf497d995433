// The Key Vault signer against the local Key Vault fake (requests and answers checked against the
// data-plane swagger) with a real GitHub OIDC → Entra sign-in through @platform/azure's credential.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createAzureCredential } from "@platform/azure/credential";
import { memoryLogger, PlatformError } from "@platform/core";
import { type GeneratedIdentity, generateRoot, generateSigningIdentity } from "@platform/signing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { x509 } from "../../packages/signing/src/crypto.ts";
import { keyVaultSigner, parseKeyVaultUri } from "../../packages/signing/src/keyvault.ts";
import { signNotaryJws } from "../../packages/signing/src/notary.ts";
import { verifyNotarySignature } from "../../packages/signing/src/trust.ts";
import { type EntraFake, type GitHubOidcFake, startEntraFake, startGitHubOidcFake } from "../fakes/entra.ts";
import { type KeyVaultFake, startKeyVaultFake } from "../fakes/keyvault.ts";

const TENANT = "11111111-2222-3333-4444-555555555555";
const image = {
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${"d".repeat(64)}`,
  size: 99,
};

describe("Key Vault signer", () => {
  let gh: GitHubOidcFake;
  let entra: EntraFake;
  let kv: KeyVaultFake;
  let rsa: GeneratedIdentity;
  let ec: GeneratedIdentity;
  let bare: KeyObject;
  let credential: ReturnType<typeof createAzureCredential>;
  const log = memoryLogger();
  const clientOptions = () => ({ tlsOptions: { ca: kv.ca }, disableChallengeResourceVerification: true });

  beforeAll(async () => {
    const root = await generateRoot();
    rsa = await generateSigningIdentity({
      root,
      key: "RSA-2048",
      subject: "C=US, ST=WA, O=Platform Test, CN=kv-rsa",
    });
    ec = await generateSigningIdentity({
      root,
      key: "EC-P384",
      subject: "C=US, ST=WA, O=Platform Test, CN=kv-ec",
    });
    const other = await generateSigningIdentity({ root });
    bare = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    gh = await startGitHubOidcFake();
    entra = await startEntraFake({ trust: gh });
    kv = await startKeyVaultFake({
      authority: entra.url,
      tenantId: TENANT,
      keys: {
        "release-rsa": { privateKey: rsa.privateKey, certificate: rsa.chain[0] },
        "release-ec": { privateKey: ec.privateKey, certificate: ec.chain[0] },
        "bare-key": { privateKey: bare },
        "wrong-cert": { privateKey: rsa.privateKey, certificate: other.chain[0] },
        locked: { privateKey: ec.privateKey, certificate: ec.chain[0] },
      },
      forbidSign: ["locked"],
    });
    credential = createAzureCredential({
      env: { ...gh.env, AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: "app-1" },
      authorityHost: entra.url,
      disableInstanceDiscovery: true,
      clientOptions: { tlsOptions: { ca: entra.ca } },
      log,
    });
  });
  // After every test: the fake saw nothing its spec does not describe (cleared so a failure names its test).
  afterEach(() => expect(kv?.mismatches.splice(0)).toEqual([]));
  afterAll(async () => {
    await Promise.all([kv?.close(), entra?.close(), gh?.close()]);
  });

  it("parses azurekv:// references", () => {
    expect(parseKeyVaultUri("azurekv://contoso/release/abc123")).toEqual({
      vaultUrl: "https://contoso.vault.azure.net",
      name: "release",
      version: "abc123",
    });
    expect(() => parseKeyVaultUri("https://contoso.vault.azure.net/keys/x")).toThrow(
      /is not a Key Vault key reference/,
    );
  });

  it.each([
    ["release-rsa", "PS256"],
    ["release-ec", "ES384"],
  ])("%s signs a Notary signature remotely with %s and the Key Vault certificate", async (name, alg) => {
    const signer = await keyVaultSigner(`azurekv://${kv.host}/${name}`, {
      credential,
      chain: [rsa.chain[1]!],
      clientOptions: clientOptions(),
    });
    expect(signer.alg).toBe(alg);
    expect(signer.certificates).toHaveLength(2);
    const env = await signNotaryJws(signer, image);
    const store = new Map([["ca:kv", [x509(rsa.chain[1]!)]]]);
    const policy = {
      name: "kv",
      registryScopes: ["*"],
      signatureVerification: { level: "strict" as const, override: { revocation: "skip" as const } },
      trustStores: ["ca:kv"],
      trustedIdentities: ["*"],
    };
    expect(verifyNotarySignature(env, image, policy, store)).toMatchObject({ ok: true });
    // Revocation is never checked here, so a policy enforcing it is not a pass.
    const enforcing = { ...policy, signatureVerification: { level: "strict" as const } };
    expect(verifyNotarySignature(env, image, enforcing, store).reason).toMatch(/revocation/);
    expect(kv.signs[name]).toBeGreaterThan(0);
    expect(kv.mismatches).toEqual([]);
    // The challenge came first, then a token for the vault audience from the Entra fake.
    expect(kv.requests[0]!.status).toBe(401);
    expect(entra.issued.some((t) => t.scope === "https://vault.azure.net/.default")).toBe(true);
    // The vault tokens and the job's OIDC tokens were masked the moment they existed and never logged.
    const secrets = [...entra.issued.map((t) => t.accessToken), ...gh.minted.map((m) => m.token)];
    for (const t of secrets) expect(log.masker.mask(`x ${t} y`)).toBe("x *** y");
    const text = log.lines.map((l) => l.line).join("\n");
    for (const t of secrets) expect(text).not.toContain(t);
  });

  it("a bare key (no certificate) has no chain and refuses Notary signing with a hint", async () => {
    const signer = await keyVaultSigner(`azurekv://${kv.host}/bare-key`, {
      credential,
      clientOptions: clientOptions(),
    });
    expect(signer.certificates).toEqual([]);
    await expect(signNotaryJws(signer, image)).rejects.toThrow(/need a certificate chain/);
  });

  it("a vault host that does not resolve names the key input and the vault name to check", async () => {
    // The SDK's transport fails as Node's does for an unknown host (no DNS lookup leaves this machine).
    const unknownHost = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND no-such-vault.vault.azure.net"), {
        code: "ENOTFOUND",
      });
    };
    await expect(
      keyVaultSigner("azurekv://no-such-vault/release", {
        credential,
        clientOptions: { retryOptions: { maxRetries: 0 }, httpClient: { sendRequest: unknownHost } },
      }),
    ).rejects.toMatchObject({
      code: "KEYVAULT_FAILED",
      input: "key",
      message: expect.stringContaining("azurekv://no-such-vault/release"),
      hint: expect.stringMatching(/vault name/),
    });
  });

  it("403 names the Key Vault Crypto User role", async () => {
    const signer = await keyVaultSigner(`azurekv://${kv.host}/locked`, {
      credential,
      clientOptions: clientOptions(),
    });
    const err = await signNotaryJws(signer, image).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.message).toMatch(/HTTP 403/);
    expect(err.hint).toMatch(/Key Vault Crypto User/);
  });

  it("a certificate for another key is an algorithm/key-type mismatch naming both", async () => {
    const err = await keyVaultSigner(`azurekv://${kv.host}/wrong-cert`, {
      credential,
      clientOptions: clientOptions(),
    }).catch((e) => e);
    expect(err.code).toBe("SIGNING_ALG_MISMATCH");
    expect(err.message).toMatch(/EC prime256v1 key, but the Key Vault key is RSA 2048/);
  });

  it("a missing key is a 404 naming the reference", async () => {
    await expect(
      keyVaultSigner(`azurekv://${kv.host}/nope`, { credential, clientOptions: clientOptions() }),
    ).rejects.toThrow(/no key azurekv:\/\/.*\/nope/);
  });
});
