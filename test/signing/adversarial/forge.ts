// Hand-made signatures for the corpus: a Notary Project JWS envelope and a cosign (sigstore bundle /
// legacy .sig) signature whose every field can be bent, pushed to the registry the way the tools push them.
import { constants, type KeyObject, sign as nodeSign } from "node:crypto";
import {
  type Descriptor,
  EMPTY_JSON,
  EMPTY_JSON_DIGEST,
  encodeJson,
  MediaType,
  parseReference,
  type RegistryClient,
  sha256Digest,
} from "@platform/oci";
import {
  BUNDLE_MEDIA_TYPE,
  COSIGN_SIGN_PREDICATE,
  cosignSignatureTag,
  dsseBundle,
  inTotoStatement,
  localSigner,
  NOTARY_ARTIFACT_TYPE,
  notarySignatureManifest,
  SIMPLESIGNING_MEDIA_TYPE,
  sigstoreKeySigner,
} from "@platform/signing";

const PAYLOAD_TYPE = "application/vnd.cncf.notary.payload.v1+json";
const b64url = (s: string | Uint8Array) => Buffer.from(s).toString("base64url");
/** RFC 3339 without fractional seconds, as the Notary Project writes times. */
export const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** Raw JWS signature bytes for `alg` (PSS salt = hash length, ECDSA r‖s), whatever the key. */
export function jwsSign(alg: string, key: KeyObject, data: Uint8Array): Buffer {
  const hash = alg.endsWith("384") ? "sha384" : alg.endsWith("512") ? "sha512" : "sha256";
  if (alg.startsWith("PS")) {
    return nodeSign(hash, data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  }
  if (alg.startsWith("RS")) return nodeSign(hash, data, { key, padding: constants.RSA_PKCS1_PADDING });
  return nodeSign(hash, data, { key, dsaEncoding: "ieee-p1363" });
}

export interface JwsSpec {
  target: Descriptor;
  key: KeyObject;
  x5c: Buffer[];
  /** Header alg (default from the key: ES256 / PS256). */
  alg?: string;
  /** Algorithm actually used to sign (default: alg). */
  signAs?: string;
  expiry?: Date;
  /** Extra or replaced protected-header members (undefined deletes one). */
  header?: Record<string, unknown>;
  /** Replaces the payload's targetArtifact. */
  payloadTarget?: Record<string, unknown>;
  /** Changes the envelope after signing (tampering). */
  tamper?: (env: {
    payload: string;
    protected: string;
    header: Record<string, unknown>;
    signature: string;
  }) => void;
}

/** A Notary Project JWS envelope (flattened JSON), signed over exactly what `spec` says. */
export function forgeJws(spec: JwsSpec): Buffer {
  const alg =
    spec.alg ??
    (spec.key.asymmetricKeyType === "ec"
      ? spec.key.asymmetricKeyDetails?.namedCurve === "secp384r1"
        ? "ES384"
        : "ES256"
      : "PS256");
  const { mediaType, digest, size } = spec.target;
  const header: Record<string, unknown> = {
    alg,
    cty: PAYLOAD_TYPE,
    "io.cncf.notary.signingScheme": "notary.x509",
    "io.cncf.notary.signingTime": rfc3339(new Date(Date.now() - 60_000)),
    ...(spec.expiry ? { "io.cncf.notary.expiry": rfc3339(spec.expiry) } : {}),
    crit: ["io.cncf.notary.signingScheme", ...(spec.expiry ? ["io.cncf.notary.expiry"] : [])],
  };
  for (const [k, v] of Object.entries(spec.header ?? {})) {
    if (v === undefined) delete header[k];
    else header[k] = v;
  }
  const p = b64url(JSON.stringify(header));
  const pl = b64url(JSON.stringify({ targetArtifact: spec.payloadTarget ?? { mediaType, digest, size } }));
  const env = {
    payload: pl,
    protected: p,
    header: {
      x5c: spec.x5c.map((c) => c.toString("base64")),
      "io.cncf.notary.signingAgent": "adversarial-corpus/1.0",
    } as Record<string, unknown>,
    signature: jwsSign(spec.signAs ?? alg, spec.key, Buffer.from(`${p}.${pl}`, "ascii")).toString(
      "base64url",
    ),
  };
  spec.tamper?.(env);
  return Buffer.from(JSON.stringify(env));
}

/** Pushes `envelope` as a Notary signature referrer of `imageRef` (certificates for the thumbprint annotation). */
export async function attachNotary(
  client: RegistryClient,
  imageRef: string,
  envelope: Buffer,
  certificates: Buffer[],
): Promise<string> {
  const ref = parseReference(imageRef);
  const subject = await client.resolve(ref);
  await client.pushBlob(ref, EMPTY_JSON);
  await client.pushBlob(ref, envelope);
  const pushed = await client.pushReferrer(
    ref,
    encodeJson(notarySignatureManifest(envelope, subject, certificates)),
  );
  return pushed.descriptor.digest;
}

/** Pushes `blob` as the one layer of a referrer of `imageRef` (empty config), the way notation and cosign do. */
async function attachReferrer(
  client: RegistryClient,
  imageRef: string,
  artifactType: string,
  layerType: string,
  blob: Buffer,
  annotations: Record<string, string>,
): Promise<void> {
  const ref = parseReference(imageRef);
  const subject = await client.resolve(ref);
  await client.pushBlob(ref, EMPTY_JSON);
  await client.pushBlob(ref, blob);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType,
    config: { mediaType: MediaType.ociEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
    layers: [{ mediaType: layerType, digest: sha256Digest(blob), size: blob.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  await client.pushReferrer(ref, encodeJson(manifest));
}

/** A referrer that claims to be a Notary signature but holds `layerBytes` (a junk neighbour). */
export function attachJunkNotary(
  client: RegistryClient,
  imageRef: string,
  layerBytes: Buffer,
  layerType = "application/jose+json",
): Promise<void> {
  return attachReferrer(client, imageRef, NOTARY_ARTIFACT_TYPE, layerType, layerBytes, {
    "io.cncf.notary.x509chain.thumbprint#S256": JSON.stringify(["00"]),
  });
}

/** A key-based sigstore bundle v0.3 (DSSE over an in-toto statement about `subjectDigest`). */
export async function forgeBundle(
  key: KeyObject,
  subjectDigest: string,
  predicateType = COSIGN_SIGN_PREDICATE,
  predicate: unknown = {},
): Promise<Buffer> {
  return dsseBundle(
    sigstoreKeySigner(localSigner(key)),
    inTotoStatement(subjectDigest, predicateType, predicate),
  );
}

/** Pushes a bundle as cosign v3 does: a referrer with the bundle media type and cosign's annotations ("" = no predicateType annotation). */
export function attachBundle(
  client: RegistryClient,
  imageRef: string,
  bundle: Buffer,
  annotatedPredicate: string,
): Promise<void> {
  return attachReferrer(client, imageRef, BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPE, bundle, {
    "dev.sigstore.bundle.content": "dsse-envelope",
    ...(annotatedPredicate ? { "dev.sigstore.bundle.predicateType": annotatedPredicate } : {}),
    "org.opencontainers.image.created": rfc3339(new Date()),
  });
}

/** One layer of a legacy `.sig` manifest: `payload` signed by `key` (DER ECDSA), or a given signature. */
export interface LegacyLayer {
  payload: Buffer;
  key?: KeyObject;
  /** base64 signature to use instead of signing (junk, or a signature over other bytes). */
  signature?: string;
}

/** A legacy cosign `.sig` manifest with one simple-signing layer per entry, tagged sha256-<hex>.sig. */
export async function attachLegacy(
  client: RegistryClient,
  imageRef: string,
  layers: LegacyLayer[],
): Promise<void> {
  const ref = parseReference(imageRef);
  const subject = await client.resolve(ref);
  await client.pushBlob(ref, EMPTY_JSON);
  for (const l of layers) await client.pushBlob(ref, l.payload);
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
    layers: layers.map((l) => ({
      mediaType: SIMPLESIGNING_MEDIA_TYPE,
      digest: sha256Digest(l.payload),
      size: l.payload.length,
      annotations: {
        "dev.cosignproject.cosign/signature":
          l.signature ?? nodeSign("sha256", l.payload, l.key!).toString("base64"),
      },
    })),
  });
  await client.putManifest(ref, manifest, MediaType.ociManifest, cosignSignatureTag(subject.digest));
}
