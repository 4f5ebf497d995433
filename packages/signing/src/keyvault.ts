import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
// Types only: the Key Vault SDKs load when a Key Vault key signs (PEM keys and verify never need them).
import type { CertificateClientOptions } from "@azure/keyvault-certificates";
import type { JsonWebKey, KeyClientOptions, KeyVaultKey, SignatureAlgorithm } from "@azure/keyvault-keys";
import { errorMessage, PlatformError } from "@platform/core";
import {
  assertAlgMatchesKey,
  describeKeySpec,
  hashOf,
  type KeySpec,
  notaryAlgFor,
  type SignatureAlg,
  x509,
} from "./crypto.ts";
import type { Signer } from "./signer.ts";

/** A Key Vault key reference: azurekv://<vault>/<key>[/<version>]. */
export interface KeyVaultKeyRef {
  vaultUrl: string;
  name: string;
  version?: string;
}

/**
 * Parses `azurekv://<vault>/<key>[/<version>]`. A vault without a dot is a vault name
 * (https://<vault>.vault.azure.net); with a dot or port it is the vault's host.
 */
export function parseKeyVaultUri(uri: string): KeyVaultKeyRef {
  const m = /^azurekv:\/\/([^/]+)\/([0-9A-Za-z-]+)(?:\/([0-9A-Za-z]+))?\/?$/.exec(uri);
  if (!m) {
    throw new PlatformError("KEYVAULT_URI_INVALID", `"${uri}" is not a Key Vault key reference`, {
      input: "key",
      hint: "Write azurekv://<vault-name>/<key-name>[/<version>], e.g. azurekv://contoso-signing/release-key.",
    });
  }
  const vault = m[1]!;
  const vaultUrl = /[.:]/.test(vault) ? `https://${vault}` : `https://${vault}.vault.azure.net`;
  return { vaultUrl, name: m[2]!, ...(m[3] ? { version: m[3] } : {}) };
}

export interface KeyVaultSignerOptions {
  credential: TokenCredential;
  /** Extra certificates (intermediates, root) to send after the Key Vault certificate, DER. */
  chain?: Buffer[];
  /** Passed to the Key Vault clients: TLS trust for a private endpoint or a test fake, retries… */
  clientOptions?: KeyClientOptions & CertificateClientOptions;
}

/**
 * A signer over a Key Vault key: the digest is computed here and signed remotely (keys/sign), with the
 * algorithm the key's type and size call for; the certificate chain comes from the Key Vault
 * certificate of the same name. No secret and no plugin binary: the credential is the job's identity.
 */
export async function keyVaultSigner(uri: string, opts: KeyVaultSignerOptions): Promise<Signer> {
  const ref = parseKeyVaultUri(uri);
  const [{ CryptographyClient, KeyClient }, { CertificateClient }] = await Promise.all([
    import("@azure/keyvault-keys"),
    import("@azure/keyvault-certificates"),
  ]);
  const keys = new KeyClient(ref.vaultUrl, opts.credential, opts.clientOptions);
  let key: KeyVaultKey;
  try {
    key = await keys.getKey(ref.name, ref.version ? { version: ref.version } : {});
  } catch (err) {
    throw keyVaultError(err, uri, "read the key (keys/get)");
  }
  const spec = keySpecFromJwk(key.key ?? {}, uri);
  const publicKey = jwkToPublicKey(key.key!);

  let leaf: Buffer | undefined;
  try {
    const certs = new CertificateClient(ref.vaultUrl, opts.credential, opts.clientOptions);
    const cert = await certs.getCertificate(ref.name);
    leaf = cert.cer ? Buffer.from(cert.cer) : undefined;
  } catch (err) {
    // A bare key (no certificate of that name) can still sign cosign signatures.
    if ((err as { statusCode?: number }).statusCode !== 404) {
      throw keyVaultError(err, uri, "read the certificate (certificates/get)");
    }
  }
  const extra = opts.chain ?? [];
  const certificates = leaf ? [leaf, ...extra.filter((c) => !c.equals(leaf))] : extra;
  if (certificates.length > 0 && !x509(certificates[0]!).publicKey.equals(publicKey)) {
    const certSpec = describeCertKey(certificates[0]!);
    throw new PlatformError(
      "SIGNING_ALG_MISMATCH",
      `The certificate for ${uri} has a ${certSpec} key, but the Key Vault key is ${describeKeySpec(spec)} (a different key)`,
      {
        input: "key",
        hint: "Use the key that backs the Key Vault certificate (same name), or pass a certificate-chain whose leaf certifies this key.",
      },
    );
  }
  const crypto = new CryptographyClient(key, opts.credential, opts.clientOptions);
  const alg = notaryAlgFor(spec);
  return {
    id: ref.version ? uri : `${uri}/${key.properties.version ?? ""}`.replace(/\/$/, ""),
    spec,
    alg,
    publicKey,
    certificates,
    async sign(data, requested) {
      const use: SignatureAlg = requested ?? alg;
      assertAlgMatchesKey(use, spec, `Key Vault key ${uri}`);
      const digest = createHash(hashOf(use)).update(data).digest();
      try {
        const result = await crypto.sign(use as SignatureAlgorithm, digest);
        if (result.algorithm && result.algorithm !== use) {
          throw new PlatformError(
            "SIGNING_ALG_MISMATCH",
            `Key Vault signed with ${result.algorithm}, not the requested ${use}`,
            { category: "environment", hint: "Check the key's type and size in Key Vault." },
          );
        }
        return Buffer.from(result.result);
      } catch (err) {
        if (err instanceof PlatformError) throw err;
        throw keyVaultError(err, uri, `sign with ${use} (keys/sign)`);
      }
    },
  };
}

function keySpecFromJwk(jwk: JsonWebKey, uri: string): KeySpec {
  const kty = jwk.kty ?? "";
  if (kty.startsWith("RSA") && jwk.n) {
    return { type: "RSA", size: Buffer.from(jwk.n).length * 8 };
  }
  if (kty.startsWith("EC")) {
    const size = { "P-256": 256, "P-384": 384, "P-521": 521 }[jwk.crv ?? ""];
    if (size) return { type: "EC", size };
  }
  throw new PlatformError(
    "SIGNING_ALG_MISMATCH",
    `Key Vault key ${uri} is of type ${kty}${jwk.crv ? ` (${jwk.crv})` : ""}, which has no Notary Project or cosign algorithm`,
    {
      input: "key",
      hint: "Use an RSA (2048/3072/4096) or EC (P-256/P-384/P-521) key, as Notation's Key Vault plugin does.",
    },
  );
}

function jwkToPublicKey(jwk: JsonWebKey): KeyObject {
  const b64 = (b?: Uint8Array) => (b ? Buffer.from(b).toString("base64url") : undefined);
  const kty = (jwk.kty ?? "").startsWith("RSA") ? "RSA" : "EC";
  return createPublicKey({
    key:
      kty === "RSA"
        ? { kty, n: b64(jwk.n), e: b64(jwk.e) }
        : { kty, crv: jwk.crv, x: b64(jwk.x), y: b64(jwk.y) },
    format: "jwk",
  });
}

function describeCertKey(der: Buffer): string {
  const key = x509(der).publicKey;
  const d = key.asymmetricKeyDetails ?? {};
  return key.asymmetricKeyType === "ec" ? `EC ${d.namedCurve}` : `RSA ${d.modulusLength}`;
}

/** Turns a Key Vault failure into a PlatformError whose hint names the missing role. */
function keyVaultError(err: unknown, uri: string, what: string): PlatformError {
  const status = (err as { statusCode?: number }).statusCode;
  const detail = errorMessage(err).split("\n")[0];
  if (status === 403) {
    const role = what.includes("certificate") ? "Key Vault Certificate User" : "Key Vault Crypto User";
    return new PlatformError(
      "KEYVAULT_FORBIDDEN",
      `Key Vault refused to ${what} for ${uri} (HTTP 403): ${detail}`,
      {
        category: "environment",
        hint: `Grant the workflow's identity the "${role}" role on the vault (or the key), or the matching access policy permission; RBAC changes can take a few minutes.`,
        cause: err,
      },
    );
  }
  if (status === 404) {
    return new PlatformError("KEYVAULT_NOT_FOUND", `Key Vault has no key ${uri} (HTTP 404): ${detail}`, {
      input: "key",
      hint: "Check the vault name, key name and version in azurekv://<vault>/<key>[/<version>].",
      cause: err,
    });
  }
  if (err instanceof PlatformError) return err;
  // No such host: most often a misspelt vault name in the `key` input.
  if (/\b(ENOTFOUND|EAI_AGAIN)\b/.test(detail ?? "")) {
    return new PlatformError("KEYVAULT_FAILED", `Could not ${what} for ${uri}: ${detail}`, {
      category: "environment",
      input: "key",
      hint: "Check the vault name in azurekv://<vault>/<key> (the vault's host must resolve from the runner; private endpoints need their private DNS zone).",
      cause: err,
    });
  }
  return new PlatformError("KEYVAULT_FAILED", `Could not ${what} for ${uri}: ${detail}`, {
    category: "environment",
    hint: "Check that the runner reaches the vault (firewall, private endpoint) and that Azure sign-in works.",
    cause: err,
  });
}
