import { PlatformError } from "@platform/core";
import {
  type Descriptor,
  EMPTY_JSON_DIGEST,
  type ImageManifest,
  MediaType,
  sha256Digest,
} from "@platform/oci";
import { certThumbprint, x509 } from "./crypto.ts";
import type { Signer } from "./signer.ts";

export const NOTARY_ARTIFACT_TYPE = "application/vnd.cncf.notary.signature";
export const NOTARY_PAYLOAD_TYPE = "application/vnd.cncf.notary.payload.v1+json";
export const JWS_MEDIA_TYPE = "application/jose+json";
export const COSE_MEDIA_TYPE = "application/cose";
export const THUMBPRINT_ANNOTATION = "io.cncf.notary.x509chain.thumbprint#S256";
export const EMPTY_CONFIG = { mediaType: MediaType.ociEmpty, digest: EMPTY_JSON_DIGEST, size: 2 } as const;

const SIGNING_SCHEME = "io.cncf.notary.signingScheme";
const SIGNING_TIME = "io.cncf.notary.signingTime";
const EXPIRY = "io.cncf.notary.expiry";
const SIGNING_AGENT = "io.cncf.notary.signingAgent";

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

/** A decoded JWS envelope: what it claims (the signature itself is checked by the verifier). */
export interface ParsedNotarySignature {
  /** The protected header's `alg`, as written (the verifier decides whether it is allowed). */
  alg: string;
  scheme: "notary.x509" | "notary.x509.signingAuthority";
  target: Descriptor;
  /** signingTime (notary.x509) or authenticSigningTime (signingAuthority). */
  signingTime: Date;
  expiry?: Date;
  signingAgent?: string;
  certificates: Buffer[];
  signingInput: Buffer;
  signature: Buffer;
  /** Critical headers other than notation's own: notation needs a plugin for them, so verification fails. */
  unknownCritical: string[];
  /** The unsigned RFC 3161 countersignature, if any (not verified here). */
  timestampSignature?: string;
}

const AUTHENTIC_SIGNING_TIME = "io.cncf.notary.authenticSigningTime";
const PROTECTED_KEYS = new Set([
  "alg",
  "cty",
  "crit",
  EXPIRY,
  SIGNING_TIME,
  SIGNING_SCHEME,
  AUTHENTIC_SIGNING_TIME,
]);
const B64URL = /^[A-Za-z0-9_-]*$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 3339 as Go's time.Time JSON decoding accepts it.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses a Notary Project JWS envelope with notation-core-go's rules (flattened JSON, unpadded base64url
 * parts, the scheme's time header, `crit` naming the signing scheme, the expiry and authenticSigningTime
 * when present and nothing absent, the Notary payload content type, a targetArtifact descriptor); throws a
 * PlatformError NOTARY_ENVELOPE_INVALID saying what is malformed.
 */
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
  const json = (text: string, what: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      throw bad(`${what} is not JSON`);
    }
  };
  const env = json(Buffer.from(bytes).toString("utf8"), "the envelope") as Partial<JwsEnvelope> | null;
  if (!env || typeof env !== "object") throw bad("the envelope is not a JSON object");
  for (const part of ["payload", "protected", "signature"] as const) {
    if (typeof env[part] !== "string" || !B64URL.test(env[part]))
      throw bad(`${part} is not unpadded base64url`);
  }
  const x5c = env.header?.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0) throw bad("no x5c certificate chain");
  if (!x5c.every((c) => typeof c === "string" && B64.test(c))) throw bad("an x5c entry is not base64");
  const header = json(
    Buffer.from(env.protected!, "base64url").toString("utf8"),
    "the protected header",
  ) as Record<string, unknown>;
  if (!header || typeof header !== "object" || Array.isArray(header))
    throw bad("the protected header is not an object");
  const time = (key: string): Date | undefined => {
    const v = header[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string" || !RFC3339.test(v) || Number.isNaN(Date.parse(v)))
      throw bad(`${key} is not an RFC 3339 time`);
    return new Date(v);
  };
  const scheme = header[SIGNING_SCHEME];
  if (scheme !== "notary.x509" && scheme !== "notary.x509.signingAuthority") {
    throw bad(`unsupported signing scheme ${JSON.stringify(scheme)}`);
  }
  const signingTime = time(SIGNING_TIME);
  const authenticTime = time(AUTHENTIC_SIGNING_TIME);
  const expiry = time(EXPIRY);
  if (scheme === "notary.x509" && authenticTime)
    throw bad(`${AUTHENTIC_SIGNING_TIME} is not allowed with notary.x509`);
  if (scheme === "notary.x509.signingAuthority" && signingTime) {
    throw bad(`${SIGNING_TIME} is not allowed with notary.x509.signingAuthority`);
  }
  const when = scheme === "notary.x509" ? signingTime : authenticTime;
  if (!when) throw bad("the signing time is missing");
  if (expiry && expiry.getTime() <= when.getTime()) throw bad("the expiry is not after the signing time");
  if (
    header.crit !== undefined &&
    (!Array.isArray(header.crit) || !header.crit.every((c) => typeof c === "string"))
  ) {
    throw bad("crit is not a list of header names");
  }
  const crit = (header.crit as string[] | undefined) ?? [];
  if (crit.length === 0) throw bad('the "crit" header is missing');
  const mustBeCritical = new Set([SIGNING_SCHEME]);
  if (expiry) mustBeCritical.add(EXPIRY);
  if (scheme === "notary.x509.signingAuthority") mustBeCritical.add(AUTHENTIC_SIGNING_TIME);
  const unknownCritical: string[] = [];
  for (const c of crit) {
    if (mustBeCritical.delete(c)) continue;
    // A header named critical must be present, and notation's own headers cannot be named twice or when absent.
    if (PROTECTED_KEYS.has(c) || !(c in header)) throw bad(`"${c}" is marked critical but not present`);
    unknownCritical.push(c);
  }
  if (mustBeCritical.size)
    throw bad(`required headers not marked critical: ${[...mustBeCritical].join(", ")}`);
  if (typeof header.alg !== "string") throw bad("alg is missing");
  if (header.cty !== NOTARY_PAYLOAD_TYPE) throw bad(`payload content type ${JSON.stringify(header.cty)}`);
  const payloadBytes = Buffer.from(env.payload!, "base64url");
  if (payloadBytes.length === 0) throw bad("the payload is empty");
  const payload = json(payloadBytes.toString("utf8"), "the payload") as {
    targetArtifact?: Descriptor;
  } | null;
  const target = payload?.targetArtifact;
  if (!target || typeof target.digest !== "string") throw bad("no targetArtifact in the payload");
  const signature = Buffer.from(env.signature!, "base64url");
  if (signature.length === 0) throw bad("the signature is empty");
  const tsa = env.header?.["io.cncf.notary.timestampSignature"];
  return {
    alg: header.alg,
    scheme,
    target,
    signingTime: when,
    expiry,
    signingAgent: env.header?.[SIGNING_AGENT],
    certificates: x5c.map((c) => Buffer.from(c, "base64")),
    signingInput: Buffer.from(`${env.protected}.${env.payload}`, "ascii"),
    signature,
    unknownCritical,
    ...(typeof tsa === "string" && tsa ? { timestampSignature: tsa } : {}),
  };
}

/** The leaf subject of a parsed signature ("C=US, O=Acme, CN=builder"). */
export function leafOf(sig: ParsedNotarySignature) {
  return x509(sig.certificates[0]!);
}

export function b64url(s: string | Uint8Array): string {
  return Buffer.from(s).toString("base64url");
}
