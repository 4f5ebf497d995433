// The proof: the real notation, cosign and oras judge our signatures, and our verifier judges theirs,
// against a real local registry (olareg with the referrers API; docker-registry 2.8 for the fallback).
import { execFile } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createAzureCredential } from "@platform/azure/credential";
import { EMPTY_JSON, encodeJson, makeReference, parseReference, RegistryClient } from "@platform/oci";
import {
  cosignKeyName,
  generateRoot,
  generateSigningIdentity,
  keyVaultSigner,
  loadPemSigner,
  loadTrustStore,
  localSigner,
  NOTARY_ARTIFACT_TYPE,
  notarySignatureManifest,
  parseTrustPolicy,
  signImage,
  type VerifyResult,
  verifyImage,
} from "@platform/signing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEntraFake, startGitHubOidcFake } from "../fakes/entra.ts";
import { startKeyVaultFake } from "../fakes/keyvault.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { requirePeers } from "../peers/index.ts";
import {
  cosignKeyPair,
  type IdentityOnDisk,
  identityOnDisk,
  pushRandomImage,
  trustPolicy,
} from "./helpers.ts";

const run = promisify(execFile);
const peers = requirePeers("olareg", "docker-registry", "notation", "cosign", "oras");
const bin = peers.paths;

interface Outcome {
  code: number;
  out: string;
}

async function tool(
  name: "notation" | "cosign" | "oras",
  args: string[],
  env: Record<string, string> = {},
): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(bin[name]!, args, {
      env: { PATH: process.env.PATH ?? "", ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** `notation verify` over plain HTTP with the notation config in `xdg`. */
function notationVerify(ref: string, xdg: string, home: Record<string, string>): Promise<Outcome> {
  return tool("notation", ["verify", "--insecure-registry", ref], { ...home, XDG_CONFIG_HOME: xdg });
}

/** notation found the signature and rejected it (not a usage, config or registry failure). */
function expectNotationRejects(r: Outcome): void {
  expect(r.code, r.out).not.toBe(0);
  expect(r.out).toMatch(/signature verification failed for all the signatures associated with/);
}

/** A notation config dir ($XDG_CONFIG_HOME/notation) trusting `rootPem` as ca:<store>, with a trust policy. */
async function notationHome(
  rootPem: string | undefined,
  identity: string,
  store = "platform",
): Promise<string> {
  const xdg = await mkdtemp(join(tmpdir(), "notation-home-"));
  const dir = join(xdg, "notation");
  await mkdir(join(dir, "truststore", "x509", "ca", store), { recursive: true });
  if (rootPem) await writeFile(join(dir, "truststore", "x509", "ca", store, "root.pem"), rootPem);
  await writeFile(join(dir, "trustpolicy.json"), JSON.stringify(trustPolicy(["*"], store, identity)));
  return xdg;
}

async function ourNotationVerify(client: RegistryClient, ref: string, xdg: string): Promise<VerifyResult> {
  const dir = join(xdg, "notation");
  return verifyImage({
    imageRef: ref,
    client,
    notation: {
      policy: parseTrustPolicy(await readFile(join(dir, "trustpolicy.json"), "utf8")),
      store: await loadTrustStore(join(dir, "truststore")),
    },
  });
}

describe.skipIf(!peers.ok)("interop with notation, cosign and oras", () => {
  let olareg: RunningRegistry;
  let distribution: RunningRegistry;
  let id: IdentityOnDisk;
  let xdgOurs: string;
  const client = new RegistryClient();
  const home = { HOME: "" };

  beforeAll(async () => {
    [olareg, distribution] = await Promise.all([startRegistry("olareg"), startRegistry("distribution")]);
    id = await identityOnDisk();
    xdgOurs = await notationHome(id.rootPem, `x509.subject: ${id.subject}`);
    home.HOME = await mkdtemp(join(tmpdir(), "tool-home-"));
  });
  afterAll(async () => {
    await Promise.all([olareg?.stop(), distribution?.stop()]);
  });

  const hosts = () => ({ olareg: olareg.host, distribution: distribution.host });

  it.each(["olareg", "distribution"] as const)(
    "notation verify accepts our Notary signature (local key, %s)",
    async (kind) => {
      const ref = await pushRandomImage(client, { registry: hosts()[kind], repository: "interop/notary" });
      const signed = await signImage({
        imageRef: ref,
        format: "notation",
        signer: await loadPemSigner(id.keyFile, id.chainFile),
        client,
      });
      expect(signed.signatures[0]!.mode).toBe(kind === "olareg" ? "api" : "tag");
      const r = await notationVerify(ref, xdgOurs, home);
      expect(r.out).toMatch(/Successfully verified signature/);
      expect(r.code).toBe(0);
    },
  );

  it("notation verify accepts our Notary signature made with a Key Vault key (fake vault, RSA PS256)", async () => {
    const root = await generateRoot();
    const kvId = await generateSigningIdentity({
      root,
      key: "RSA-2048",
      subject: "C=US, ST=WA, O=Platform Test, CN=kv-signer",
    });
    const gh = await startGitHubOidcFake();
    const entra = await startEntraFake({ trust: gh });
    const kv = await startKeyVaultFake({
      authority: entra.url,
      tenantId: "tenant-1",
      keys: { release: { privateKey: kvId.privateKey, certificate: kvId.chain[0] } },
    });
    try {
      const credential = createAzureCredential({
        env: { ...gh.env, AZURE_TENANT_ID: "tenant-1", AZURE_CLIENT_ID: "app-1" },
        authorityHost: entra.url,
        disableInstanceDiscovery: true,
        clientOptions: { tlsOptions: { ca: entra.ca } },
      });
      const signer = await keyVaultSigner(`azurekv://${kv.host}/release`, {
        credential,
        chain: [kvId.chain[1]!],
        clientOptions: { tlsOptions: { ca: kv.ca }, disableChallengeResourceVerification: true },
      });
      expect(signer.alg).toBe("PS256");
      const ref = await pushRandomImage(client, { registry: olareg.host, repository: "interop/kv" });
      await signImage({ imageRef: ref, format: "notation", signer, client });
      expect(kv.mismatches).toEqual([]);
      const xdg = await notationHome(kvId.rootPem, `x509.subject: ${kvId.subject}`);
      const r = await notationVerify(ref, xdg, home);
      expect(r.out).toMatch(/Successfully verified signature/);
    } finally {
      await Promise.all([kv.close(), entra.close(), gh.close()]);
    }
  });

  it.each([
    ["bundle", "olareg"],
    ["legacy", "olareg"],
    ["bundle", "distribution"],
  ] as const)("cosign verify --key accepts our cosign signature (%s layout, %s)", async (layout, kind) => {
    const k = await cosignKeyPair();
    const ref = await pushRandomImage(client, {
      registry: hosts()[kind],
      repository: `interop/cosign-${layout}`,
    });
    await signImage({
      imageRef: ref,
      format: "cosign",
      cosignLayout: layout,
      signer: localSigner(k.privateKey),
      client,
    });
    const args = ["verify", "--key", k.pubFile, "--insecure-ignore-tlog=true", "--allow-http-registry"];
    if (layout === "legacy") args.push("--new-bundle-format=false");
    const r = await tool("cosign", [...args, ref], home);
    expect(r.out).toMatch(/The signatures were verified against the specified public key/);
    expect(r.code).toBe(0);
    // A different key: cosign refuses, so the acceptance above means something.
    const other = await cosignKeyPair();
    const bad = await tool("cosign", ["verify", "--key", other.pubFile, ...args.slice(3), ref], home);
    expect(bad.code).not.toBe(0);
    // Refused for the signature, not for a usage or registry error.
    expect(bad.out).toMatch(/no matching (signatures|attestations)/);
  });

  it("oras discover lists our signature, SBOM and provenance referrers", async () => {
    const ref = await pushRandomImage(client, { registry: olareg.host, repository: "interop/oras" });
    const sbom = join(id.dir, "sbom.spdx.json");
    await writeFile(
      sbom,
      JSON.stringify({ spdxVersion: "SPDX-2.3", SPDXID: "SPDXRef-DOCUMENT", name: "app", packages: [] }),
    );
    await signImage({
      imageRef: ref,
      format: "both",
      cosignLayout: "bundle",
      signer: await loadPemSigner(id.keyFile, id.chainFile),
      client,
      sbom,
      provenance: { GITHUB_REPOSITORY: "octo-org/app", GITHUB_SHA: "b".repeat(40), GITHUB_RUN_ID: "7" },
    });
    const r = await tool("oras", ["discover", "--plain-http", "--format", "json", ref], home);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    const found = (json.referrers ?? json.manifests ?? []).map(
      (d: { artifactType: string; annotations?: Record<string, string> }) =>
        d.artifactType === NOTARY_ARTIFACT_TYPE
          ? "notation"
          : d.annotations?.["dev.sigstore.bundle.predicateType"],
    );
    expect(found.sort()).toEqual(
      [
        "notation",
        "https://sigstore.dev/cosign/sign/v1",
        "https://spdx.dev/Document",
        "https://slsa.dev/provenance/v1",
      ].sort(),
    );
  });

  describe("our verify judges signatures made by the real tools", () => {
    let xdgTool: string;
    let notationRef: string;
    beforeAll(async () => {
      xdgTool = await mkdtemp(join(tmpdir(), "notation-tool-"));
      const gen = await tool("notation", ["cert", "generate-test", "--default", "test"], {
        ...home,
        XDG_CONFIG_HOME: xdgTool,
      });
      expect(gen.code, gen.out).toBe(0);
      const dir = join(xdgTool, "notation");
      await writeFile(
        join(dir, "trustpolicy.json"),
        JSON.stringify(trustPolicy(["*"], "test", "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=test")),
      );
      notationRef = await pushRandomImage(client, {
        registry: olareg.host,
        repository: "interop/by-notation",
      });
      // Through the referrers API: olareg does not index a signature pushed with notation's default
      // (tag schema), and then notation verify cannot find its own signature either.
      const s = await tool(
        "notation",
        ["sign", "--insecure-registry", "--force-referrers-tag=false", notationRef],
        {
          ...home,
          XDG_CONFIG_HOME: xdgTool,
        },
      );
      expect(s.code, s.out).toBe(0);
    });

    it("accepts a `notation sign` signature (test key from notation cert generate-test)", async () => {
      const v = await ourNotationVerify(client, notationRef, xdgTool);
      expect(v.reasons).toEqual([]);
      expect(v.verified).toBe(true);
      expect(v.signers).toEqual(["C=US, ST=WA, L=Seattle, O=Notary, CN=test"]);
      // …and notation itself agrees with the same policy.
      const r = await notationVerify(notationRef, xdgTool, home);
      expect(r.code, r.out).toBe(0);
    });

    it("finds a signature notation pushed with its default tag schema, even where the referrers API exists", async () => {
      const ref = await pushRandomImage(client, {
        registry: olareg.host,
        repository: "interop/by-notation-tag",
      });
      const s = await tool("notation", ["sign", "--insecure-registry", ref], {
        ...home,
        XDG_CONFIG_HOME: xdgTool,
      });
      expect(s.code, s.out).toBe(0);
      const v = await ourNotationVerify(client, ref, xdgTool);
      expect(v.reasons).toEqual([]);
      expect(v.verified).toBe(true);
    });

    it("rejects it for an untrusted identity — as notation does", async () => {
      const dir = join(xdgTool, "notation");
      const strict = await mkdtemp(join(tmpdir(), "notation-untrusted-"));
      await cp(dir, join(strict, "notation"), { recursive: true });
      await writeFile(
        join(strict, "notation", "trustpolicy.json"),
        JSON.stringify(trustPolicy(["*"], "test", "x509.subject: C=US, ST=WA, O=Notary, CN=someone-else")),
      );
      const v = await ourNotationVerify(client, notationRef, strict);
      expect(v.verified).toBe(false);
      expect(v.reasons[0]).toMatch(/untrusted identity/);
      expectNotationRejects(await notationVerify(notationRef, strict, home));
    });

    it("rejects notation's signature moved to another image (digest mismatch) and a changed payload (tampered)", async () => {
      const src = parseReference(notationRef);
      const sigs = await client.listReferrers(notationRef, { artifactType: NOTARY_ARTIFACT_TYPE });
      const sigManifest = await client.getManifest(
        makeReference(src.registry, src.repository, undefined, sigs.descriptors[0]!.digest),
      );
      const layer = (sigManifest.manifest as { layers: Array<{ digest: string; size: number }> }).layers[0]!;
      const envelope = Buffer.from(await client.getBlob(src, layer.digest, layer.size));
      const certs = (JSON.parse(envelope.toString()).header.x5c as string[]).map((c) =>
        Buffer.from(c, "base64"),
      );

      const attach = async (target: string, env: Buffer) => {
        const t = parseReference(target);
        const subject = await client.resolve(t);
        await client.pushBlob(t, EMPTY_JSON);
        await client.pushBlob(t, env);
        await client.pushReferrer(t, encodeJson(notarySignatureManifest(env, subject, certs)));
      };
      const moved = await pushRandomImage(client, {
        registry: olareg.host,
        repository: "interop/by-notation",
      });
      await attach(moved, envelope);
      const mv = await ourNotationVerify(client, moved, xdgTool);
      expect(mv.verified).toBe(false);
      expect(mv.reasons[0]).toMatch(/digest mismatch/);

      const changed = await pushRandomImage(client, {
        registry: olareg.host,
        repository: "interop/by-notation",
      });
      const j = JSON.parse(envelope.toString());
      const payload = JSON.parse(Buffer.from(j.payload, "base64url").toString());
      payload.targetArtifact.digest = parseReference(changed).digest;
      j.payload = Buffer.from(JSON.stringify(payload)).toString("base64url");
      await attach(changed, Buffer.from(JSON.stringify(j)));
      const ch = await ourNotationVerify(client, changed, xdgTool);
      expect(ch.verified).toBe(false);
      expect(ch.reasons[0]).toMatch(/tampered payload/);
      // notation rejects both as well.
      for (const ref of [moved, changed]) {
        expectNotationRejects(await notationVerify(ref, xdgTool, home));
      }
    });

    it("rejects a signature whose certificate has expired — as notation does", async () => {
      const root = await generateRoot();
      const old = await generateSigningIdentity({
        root,
        notBefore: new Date(Date.now() - 10 * 86400_000),
        notAfter: new Date(Date.now() - 86400_000),
      });
      const ref = await pushRandomImage(client, { registry: olareg.host, repository: "interop/expired" });
      await signImage({
        imageRef: ref,
        format: "notation",
        signer: localSigner(old.privateKey, old.chain),
        client,
      });
      const xdg = await notationHome(old.rootPem, `x509.subject: ${old.subject}`);
      const v = await ourNotationVerify(client, ref, xdg);
      expect(v.verified).toBe(false);
      expect(v.reasons[0]).toMatch(/expired certificate/);
      expectNotationRejects(await notationVerify(ref, xdg, home));
    });

    it("accepts `cosign sign --key --tlog-upload=false` and rejects it with the wrong key", async () => {
      const dir = await mkdtemp(join(tmpdir(), "cosign-cli-"));
      const env = { ...home, COSIGN_PASSWORD: "" };
      await run(bin.cosign!, ["generate-key-pair"], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", ...env },
      });
      const ref = await pushRandomImage(client, { registry: olareg.host, repository: "interop/by-cosign" });
      const s = await tool(
        "cosign",
        [
          "sign",
          ...["--key", join(dir, "cosign.key"), "--tlog-upload=false", "--use-signing-config=false"],
          ...["--allow-http-registry", "-y", ref],
        ],
        env,
      );
      expect(s.code, s.out).toBe(0);
      const pub = createPublicKey(await readFile(join(dir, "cosign.pub"), "utf8"));
      const ok = await verifyImage({ imageRef: ref, client, cosignKeys: [{ name: "cosign.pub", key: pub }] });
      expect(ok.reasons).toEqual([]);
      expect(ok.signers).toEqual(["cosign.pub"]);
      const wrong = await cosignKeyPair();
      const bad = await verifyImage({
        imageRef: ref,
        client,
        cosignKeys: [{ name: cosignKeyName(wrong.publicKey), key: wrong.publicKey }],
      });
      expect(bad.verified).toBe(false);
      expect(bad.reasons[0]).toMatch(/tampered payload or wrong key/);
    });
  });
});
