import {
  constants,
  createHash,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  X509Certificate,
} from "node:crypto";
import { PlatformError } from "@platform/core";

/** JWS algorithms the Notary Project allows (RSASSA-PSS and ECDSA; never PKCS#1 v1.5). */
export type NotaryAlg = "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "ES512";
/** Every signature algorithm we produce or check: Notary's plus RS256 for cosign with RSA keys. */
export type SignatureAlg = NotaryAlg | "RS256";
export type HashName = "sha256" | "sha384" | "sha512";

/** What a key is, as Key Vault and X.509 describe it. */
export interface KeySpec {
  type: "RSA" | "EC";
  /** RSA modulus bits, or the EC field size (256, 384, 521). */
  size: number;
}

const RSA_ALGS: Record<number, NotaryAlg> = { 2048: "PS256", 3072: "PS384", 4096: "PS512" };
const EC_ALGS: Record<number, NotaryAlg> = { 256: "ES256", 384: "ES384", 521: "ES512" };
const CURVE_SIZES: Record<string, number> = {
  prime256v1: 256,
  secp384r1: 384,
  secp521r1: 521,
  "P-256": 256,
  "P-384": 384,
  "P-521": 521,
};

/** The spec of a public or private key object; throws for key types the Notary Project does not allow. */
export function keySpecOf(key: KeyObject): KeySpec {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss") {
    return { type: "RSA", size: details.modulusLength ?? 0 };
  }
  if (key.asymmetricKeyType === "ec") {
    const size = CURVE_SIZES[details.namedCurve ?? ""];
    if (size) return { type: "EC", size };
  }
  throw new PlatformError(
    "SIGNING_KEY_UNSUPPORTED",
    `Keys of type ${key.asymmetricKeyType}${details.namedCurve ? ` (${details.namedCurve})` : ""} cannot sign Notary Project or cosign signatures`,
    { input: "key", hint: "Use an RSA 2048/3072/4096 or EC P-256/P-384/P-521 key." },
  );
}

/** The Notary Project algorithm for a key spec: RSA 2048/3072/4096 → PS256/384/512, EC P-256/384/521 → ES256/384/512. */
export function notaryAlgFor(spec: KeySpec): NotaryAlg {
  const alg = spec.type === "RSA" ? RSA_ALGS[spec.size] : EC_ALGS[spec.size];
  if (!alg) {
    throw new PlatformError(
      "SIGNING_KEY_SIZE",
      `An ${spec.type} key of ${spec.size} bits has no Notary Project signature algorithm`,
      { input: "key", hint: "Use RSA 2048, 3072 or 4096 bits, or EC P-256, P-384 or P-521." },
    );
  }
  return alg;
}

/** cosign's algorithm for a key: ECDSA with the curve's hash (DER-encoded on the wire), RSA PKCS#1 v1.5 SHA-256. */
export function cosignAlgFor(spec: KeySpec): SignatureAlg {
  return spec.type === "RSA" ? "RS256" : notaryAlgFor(spec);
}

export function hashOf(alg: SignatureAlg): HashName {
  return alg.endsWith("384") ? "sha384" : alg.endsWith("512") ? "sha512" : "sha256";
}

/** Throws, naming both, when an algorithm cannot be used with a key. */
export function assertAlgMatchesKey(alg: string, spec: KeySpec, where: string): void {
  const family = alg.slice(0, 2);
  const ok =
    (spec.type === "RSA" && (family === "PS" || family === "RS")) ||
    (spec.type === "EC" && alg === EC_ALGS[spec.size]);
  if (!ok) {
    throw new PlatformError(
      "SIGNING_ALG_MISMATCH",
      `${where}: algorithm ${alg} does not match the key type ${describeKeySpec(spec)}`,
      {
        input: "key",
        hint: `A ${describeKeySpec(spec)} key signs with ${spec.type === "RSA" ? (RSA_ALGS[spec.size] ?? "PS256") : (EC_ALGS[spec.size] ?? "ES256")}; use a key whose type matches the algorithm, or let the algorithm follow the key.`,
      },
    );
  }
}

export function describeKeySpec(spec: KeySpec): string {
  return spec.type === "RSA" ? `RSA ${spec.size}` : `EC P-${spec.size}`;
}

/** Signs with a local private key; ECDSA comes back as raw r‖s (JWS form). */
export function signRaw(alg: SignatureAlg, key: KeyObject, data: Uint8Array): Buffer {
  return nodeSign(hashOf(alg), data, keyParams(alg, key, "sign"));
}

/** Verifies a signature in JWS form (ECDSA raw r‖s) or, with `der`, an ASN.1 DER ECDSA signature. */
export function verifyRaw(
  alg: SignatureAlg,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
  opts: { der?: boolean } = {},
): boolean {
  try {
    const params = keyParams(alg, key, "verify");
    if (opts.der && alg.startsWith("ES")) delete params.dsaEncoding;
    return nodeVerify(hashOf(alg), data, params, signature);
  } catch {
    return false;
  }
}

function keyParams(alg: SignatureAlg, key: KeyObject, use: "sign" | "verify") {
  const params: {
    key: KeyObject;
    padding?: number;
    saltLength?: number;
    dsaEncoding?: "ieee-p1363" | "der";
  } = { key };
  if (alg.startsWith("PS")) {
    params.padding = constants.RSA_PKCS1_PSS_PADDING;
    // Key Vault and Go sign with salt = hash length; Go verifiers accept any salt length (auto).
    params.saltLength = use === "sign" ? constants.RSA_PSS_SALTLEN_DIGEST : constants.RSA_PSS_SALTLEN_AUTO;
  } else if (alg.startsWith("RS")) {
    params.padding = constants.RSA_PKCS1_PADDING;
  } else {
    params.dsaEncoding = "ieee-p1363";
  }
  return params;
}

/** ECDSA raw r‖s → ASN.1 DER SEQUENCE { r INTEGER, s INTEGER } (cosign's encoding). */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  const int = (bytes: Uint8Array): Buffer => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let b = Buffer.from(bytes.subarray(i));
    if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([0x02]), derLength(b.length), b]);
  };
  const body = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  return n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Splits a PEM bundle into DER certificates, in file order. */
export function pemCertificates(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    out.push(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"));
  }
  return out;
}

export function derToPem(der: Uint8Array, label = "CERTIFICATE"): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/** Lower-case hex SHA-256 of a DER certificate, as the notation thumbprint annotation lists it. */
export function certThumbprint(der: Uint8Array): string {
  return sha256Hex(der);
}

/**
 * An RFC 4514-ish DN ("C=US, O=Acme, CN=builder") or Node's multi-line subject as attribute pairs;
 * commas escaped with a backslash stay inside a value.
 */
export function parseDn(dn: string): Array<[string, string]> {
  const parts = dn.includes("\n") ? dn.split("\n") : dn.split(/(?<!\\),/);
  const out: Array<[string, string]> = [];
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    out.push([
      part.slice(0, eq).trim().toUpperCase(),
      part
        .slice(eq + 1)
        .trim()
        .replace(/\\,/g, ","),
    ]);
  }
  return out;
}

/** The leaf's subject in notation's textual form, e.g. "C=US, O=Acme, CN=builder". */
export function subjectOf(cert: X509Certificate): string {
  return parseDn(cert.subject)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

export function x509(der: Uint8Array): X509Certificate {
  return new X509Certificate(der);
}
