// Shared set-up for the signing integration tests: a signing identity on disk (key, chain, notation-style
// trust store and policy), a cosign key pair, and a pushed random image.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  encodeJson,
  MediaType,
  OciLayout,
  type RegistryClient,
  type Repo,
  sha256Digest,
} from "@platform/oci";
import { type GeneratedIdentity, generateSigningIdentity, publicKeyPem } from "@platform/signing";
import { pushImage, randomImage } from "../oci/images.ts";

export interface IdentityOnDisk extends GeneratedIdentity {
  dir: string;
  keyFile: string;
  chainFile: string;
  /** notation's trust-store folder (holding x509/ca/<store>/root.pem). */
  trustStoreDir: string;
  policyFile: string;
}

/** Writes a signing identity, its trust store ("ca:<store>") and a strict trust policy for `scopes`. */
export async function identityOnDisk(
  opts: {
    subject?: string;
    store?: string;
    scopes?: string[];
    identity?: GeneratedIdentity;
    trustedIdentity?: string;
  } = {},
): Promise<IdentityOnDisk> {
  const id = opts.identity ?? (await generateSigningIdentity({ subject: opts.subject }));
  const dir = await mkdtemp(join(tmpdir(), "signing-id-"));
  const store = opts.store ?? "platform";
  const keyFile = join(dir, "signing.key");
  const chainFile = join(dir, "signing.crt");
  await writeFile(keyFile, id.keyPem, { mode: 0o600 });
  await writeFile(chainFile, id.chainPem);
  const trustStoreDir = join(dir, "trust-store");
  await mkdir(join(trustStoreDir, "x509", "ca", store), { recursive: true });
  await writeFile(join(trustStoreDir, "x509", "ca", store, "root.pem"), id.rootPem);
  const policyFile = join(dir, "trustpolicy.json");
  await writeFile(
    policyFile,
    JSON.stringify(
      trustPolicy(opts.scopes ?? ["*"], store, opts.trustedIdentity ?? `x509.subject: ${id.subject}`),
    ),
  );
  return { ...id, dir, keyFile, chainFile, trustStoreDir, policyFile };
}

export function trustPolicy(scopes: string[], store: string, identity: string) {
  return {
    version: "1.0",
    trustPolicies: [
      {
        name: "platform-images",
        registryScopes: scopes,
        signatureVerification: { level: "strict", override: { revocation: "skip" } },
        trustStores: [`ca:${store}`],
        trustedIdentities: [identity],
      },
    ],
  };
}

/** A cosign-style EC P-256 key pair, the public key written as PEM. */
export async function cosignKeyPair(): Promise<{
  privateKey: KeyObject;
  publicKey: KeyObject;
  pubFile: string;
  keyFile: string;
}> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const dir = await mkdtemp(join(tmpdir(), "cosign-key-"));
  const pubFile = join(dir, "cosign.pub");
  const keyFile = join(dir, "cosign.key");
  await writeFile(pubFile, publicKeyPem(publicKey));
  await writeFile(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });
  return { privateKey, publicKey, pubFile, keyFile };
}

/** Pushes a small random image and returns its `host/repo@digest` reference. */
export async function pushRandomImage(client: RegistryClient, repo: Repo, tag?: string): Promise<string> {
  const img = randomImage([512]);
  await pushImage(client, repo, img, tag);
  return `${repo.registry}/${repo.repository}@${img.descriptor.digest}`;
}

/** An OCI layout in `dir` holding one small image per ref name; returns the layout and their digests. */
export async function layoutWithImages(
  dir: string,
  names: string[],
): Promise<{ layout: OciLayout; digests: string[] }> {
  const layout = await OciLayout.create(dir);
  const digests: string[] = [];
  for (const name of names) {
    const config = encodeJson({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
      name,
    });
    await layout.writeBlob(config);
    const manifest = encodeJson({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha256Digest(config), size: config.byteLength },
      layers: [],
    });
    digests.push((await layout.addManifest(manifest, MediaType.ociManifest, name)).digest);
  }
  return { layout, digests };
}
