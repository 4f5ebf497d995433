import { PlatformError } from "@platform/core";
import {
  type Descriptor,
  EMPTY_JSON_DIGEST,
  type ImageManifest,
  MediaType,
  sha256Digest,
} from "@platform/oci";
import { certThumbprint, type NotaryAlg, x509 } from "./crypto.ts";
import type { Signer } from "./signer.ts";

export const NOTARY_ARTIFACT_TYPE = "application/vnd.cncf.notary.signature";
export const NOTARY_PAYLOAD_TYPE = "application/vnd.cncf.notary.payload.v1+json";
export const JWS_MEDIA_TYPE = "application/jose+json";
export const THUMBPRINT_ANNOTATION = "io.cncf.notary.x509chain.thumbprint#S256";
export const EMPTY_CONFIG = { mediaType: MediaType.ociEmpty, digest: EMPTY_JSON_DIGEST, size: 2 } as const;

const SIGNING_SCHEME = "io.cncf.notary.signingScheme";
const SIGNING_TIME = "io.cncf.notary.signingTime";
const EXPIRY = "io.cncf.notary.expiry";
const SIGNING_AGENT = "io.cncf.notary.signingAgent";
/** Headers of the notary.x509 scheme we understand; any other critical header fails verification. */
const KNOWN_CRITICAL = new Set([SIGNING_SCHEME, EXPIRY]);

export type { Descriptor };
/** An OCI image manifest as we write it (media type always set). */
export type OciManifest = ImageManifest & { mediaType: string };

export interface JwsEnvelope {
  payload: string;
  protected: string;
  header: { x5c: string[]; [SIGNING_AGENT]?: string; "io.cncf.notary.timestampSignature"?: string };
  signature: string;
}

export interface NotarySignOptions {
  signingTime?: Date;
  /** Signature expiry; absent means the signature never expires. */
  expiry?: Date;
  signingAgent?: string;
}

/** RFC 3339 without fractional seconds, as the Notary Project requires. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Signs `target` (the image's descriptor) into a Notary Project JWS envelope (flattened JSON). */
export async function signNotaryJws(
  signer: Signer,
  target: Descriptor,
  opts: NotarySignOptions = {},
): Promise<Buffer> {
  if (signer.certificates.length === 0) {
    throw new PlatformError(
      "SIGNING_CHAIN_MISSING",
      `Notary Project signatures need a certificate chain for ${signer.id}`,
      {
        input: "certificate-chain",
        hint: "Pass certificate-chain (PEM, leaf first) or use a Key Vault key that has a certificate.",
      },
    );
  }
  const payload = { targetArtifact: pickDescriptor(target) };
  const crit = [SIGNING_SCHEME, ...(opts.expiry ? [EXPIRY] : [])];
  const protectedHeader = {
    alg: signer.alg,
    cty: NOTARY_PAYLOAD_TYPE,
    [SIGNING_SCHEME]: "notary.x509",
    [SIGNING_TIME]: rfc3339(opts.signingTime ?? new Date()),
    ...(opts.expiry ? { [EXPIRY]: rfc3339(opts.expiry) } : {}),
    crit,
  };
  const p = b64url(JSON.stringify(protectedHeader));
  const pl = b64url(JSON.stringify(payload));
  const signature = await signer.sign(Buffer.from(`${p}.${pl}`, "ascii"), signer.alg);
  const envelope: JwsEnvelope = {
    payload: pl,
    protected: p,
    header: {
      x5c: signer.certificates.map((c) => c.toString("base64")),
      [SIGNING_AGENT]: opts.signingAgent ?? "platform-signing/0.1.0",
    },
    signature: signature.toString("base64url"),
  };
  return Buffer.from(JSON.stringify(envelope));
}

/** The signature manifest that carries `envelope` as a referrer of `subject`. */
export function notarySignatureManifest(
  envelope: Uint8Array,
  subject: Descriptor,
  certificates: Uint8Array[],
  created = new Date(),
): OciManifest {
  return referrerManifest(NOTARY_ARTIFACT_TYPE, JWS_MEDIA_TYPE, envelope, subject, created, {
    [THUMBPRINT_ANNOTATION]: JSON.stringify(certificates.map((c) => certThumbprint(c))),
  });
}

/** An OCI 1.1 artifact manifest: empty config, one layer holding `blob`, `subject`, creation time. */
export function referrerManifest(
  artifactType: string,
  layerMediaType: string,
  blob: Uint8Array,
  subject: Descriptor,
  created: Date,
  annotations: Record<string, string>,
): OciManifest {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType,
    config: { ...EMPTY_CONFIG },
    layers: [{ mediaType: layerMediaType, digest: sha256Digest(blob), size: blob.length }],
    subject: pickDescriptor(subject),
    annotations: { ...annotations, "org.opencontainers.image.created": rfc3339(created) },
  };
}

function pickDescriptor(d: Descriptor): Descriptor {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.artifactType ? { artifactType: d.artifactType } : {}),
    ...(d.annotations && Object.keys(d.annotations).length ? { annotations: d.annotations } : {}),
  };
}

/** A decoded JWS envelope: what it claims; `signatureValid` says whether the leaf key signed it. */
export interface ParsedNotarySignature {
  alg: NotaryAlg;
  target: Descriptor;
  signingTime?: Date;
  expiry?: Date;
  signingAgent?: string;
  certificates: Buffer[];
  signingInput: Buffer;
  signature: Buffer;
  /** Critical headers we do not understand (verification must fail). */
  unknownCritical: string[];
}

/** Parses a Notary Project JWS envelope; throws a PlatformError saying what is malformed. */
export function parseNotaryJws(bytes: Uint8Array): ParsedNotarySignature {
  const bad = (what: string) =>
    new PlatformError(
      "NOTARY_ENVELOPE_INVALID",
      `The Notary Project signature envelope is malformed: ${what}`,
      {
        category: "verdict",
        hint: "The signature was corrupted or not made by a Notary Project signer; re-sign the image.",
      },
    );
  let env: JwsEnvelope;
  let header: Record<string, unknown>;
  let payload: { targetArtifact?: Descriptor };
  try {
    env = JSON.parse(Buffer.from(bytes).toString("utf8"));
    header = JSON.parse(Buffer.from(env.protected, "base64url").toString("utf8"));
    payload = JSON.parse(Buffer.from(env.payload, "base64url").toString("utf8"));
  } catch {
    throw bad("not JSON with base64url protected header and payload");
  }
  if (header[SIGNING_SCHEME] !== "notary.x509") throw bad(`signing scheme ${String(header[SIGNING_SCHEME])}`);
  if (header.cty !== NOTARY_PAYLOAD_TYPE) throw bad(`content type ${String(header.cty)}`);
  const target = payload.targetArtifact;
  if (!target || typeof target.digest !== "string") throw bad("no targetArtifact in the payload");
  const x5c = env.header?.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0) throw bad("no x5c certificate chain");
  const crit = Array.isArray(header.crit) ? (header.crit as string[]) : [];
  return {
    alg: header.alg as NotaryAlg,
    target,
    signingTime:
      typeof header[SIGNING_TIME] === "string" ? new Date(header[SIGNING_TIME] as string) : undefined,
    expiry: typeof header[EXPIRY] === "string" ? new Date(header[EXPIRY] as string) : undefined,
    signingAgent: env.header[SIGNING_AGENT],
    certificates: x5c.map((c) => Buffer.from(c, "base64")),
    signingInput: Buffer.from(`${env.protected}.${env.payload}`, "ascii"),
    signature: Buffer.from(env.signature, "base64url"),
    unknownCritical: crit.filter((c) => !KNOWN_CRITICAL.has(c)),
  };
}

/** The leaf subject of a parsed signature ("C=US, O=Acme, CN=builder"). */
export function leafOf(sig: ParsedNotarySignature) {
  return x509(sig.certificates[0]!);
}

export function b64url(s: string | Uint8Array): string {
  return Buffer.from(s).toString("base64url");
}
