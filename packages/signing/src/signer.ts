import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PlatformError } from "@platform/core";
import {
  type KeySpec,
  keySpecOf,
  type NotaryAlg,
  notaryAlgFor,
  pemCertificates,
  type SignatureAlg,
  signRaw,
  x509,
} from "./crypto.ts";

/** Something that signs bytes with one key; ECDSA signatures come back as raw r‖s (JWS form). */
export interface Signer {
  /** Where the key lives, for logs and summaries: a file path or azurekv://vault/key/version. */
  readonly id: string;
  readonly spec: KeySpec;
  /** The Notary Project algorithm the key's type and size call for. */
  readonly alg: NotaryAlg;
  readonly publicKey: KeyObject;
  /** Certificate chain, leaf first, DER; empty for a bare key (cosign only). */
  readonly certificates: Buffer[];
  sign(data: Uint8Array, alg?: SignatureAlg): Promise<Buffer>;
}

/** A signer over a private key in memory (local PEM files, tests, the demo). */
export function localSigner(privateKey: KeyObject, certificates: Buffer[] = [], id = "local key"): Signer {
  const spec = keySpecOf(privateKey);
  const notaryAlg = notaryAlgFor(spec);
  const publicKey = createPublicKey(privateKey);
  if (certificates.length > 0) {
    const leafKey = x509(certificates[0]!).publicKey;
    if (!leafKey.equals(publicKey)) {
      throw new PlatformError(
        "SIGNING_CHAIN_KEY_MISMATCH",
        `The first certificate of the chain (${x509(certificates[0]!).subject.replace(/\n/g, ", ")}) is not the certificate of the signing key ${id}`,
        {
          input: "certificate-chain",
          hint: "Put the signing (leaf) certificate first in the chain file, then its intermediates and the root.",
        },
      );
    }
  }
  return {
    id,
    spec,
    alg: notaryAlg,
    publicKey,
    certificates,
    async sign(data, alg) {
      return signRaw(alg ?? notaryAlg, privateKey, data);
    },
  };
}

/**
 * A signer from a PEM private key file (PKCS#8, SEC1 or PKCS#1) and a PEM chain: the `certificate-chain`
 * file, or certificates that follow the key in the same file.
 */
export async function loadPemSigner(keyPath: string, chainPath?: string): Promise<Signer> {
  const keyPem = await readInput(keyPath, "key");
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (err) {
    throw new PlatformError("SIGNING_KEY_INVALID", `${keyPath} holds no readable PEM private key`, {
      input: "key",
      file: keyPath,
      hint: "Pass an unencrypted PEM private key (BEGIN PRIVATE KEY / EC PRIVATE KEY / RSA PRIVATE KEY).",
      cause: err,
    });
  }
  const chain = chainPath ? await loadPemChain(chainPath) : pemCertificates(keyPem);
  return localSigner(privateKey, chain, keyPath);
}

/** The `certificate-chain` file's certificates (DER, file order); an unreadable or certificate-less file is an input error. */
export async function loadPemChain(chainPath: string): Promise<Buffer[]> {
  const chain = pemCertificates(await readInput(chainPath, "certificate-chain"));
  if (chain.length === 0) {
    throw new PlatformError("SIGNING_CHAIN_EMPTY", `${chainPath} holds no PEM certificate`, {
      input: "certificate-chain",
      file: chainPath,
      hint: "Pass a PEM file with the signing certificate first, then intermediates and the root.",
    });
  }
  return chain;
}

async function readInput(path: string, input: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new PlatformError("SIGNING_FILE_UNREADABLE", `Cannot read ${path}`, {
      input,
      file: path,
      hint: `Check the ${input} path; it is relative to the workspace.`,
      cause: err,
    });
  }
}
