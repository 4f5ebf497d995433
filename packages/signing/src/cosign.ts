import { type KeyObject, verify as nodeVerify } from "node:crypto";
import { MediaType, sha256Digest } from "@platform/oci";
import { BUNDLE_V03_MEDIA_TYPE, type Bundle, bundleFromJSON, bundleToJSON } from "@sigstore/bundle";
// Types only: @sigstore/sign (with its HTTP stack, ~800 KiB bundled) loads when something is signed.
import type { Signer as SigstoreSigner, Witness } from "@sigstore/sign";
import { cosignAlgFor, derToPem, ecdsaRawToDer, type SignatureAlg, verifyRaw } from "./crypto.ts";
import { type Descriptor, EMPTY_CONFIG, type OciManifest, referrerManifest } from "./notary.ts";
import type { Signer } from "./signer.ts";

export const SIMPLESIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
export const BUNDLE_MEDIA_TYPE = BUNDLE_V03_MEDIA_TYPE;
export const INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1";
export const BUNDLE_CONTENT_ANNOTATION = "dev.sigstore.bundle.content";
export const BUNDLE_PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType";

/** The `sha256-<hex>.sig` tag cosign's legacy layout keeps signatures under. */
export function cosignSignatureTag(digest: string): string {
  return `${digest.replace(":", "-")}.sig`;
}

/** cosign's simple-signing payload (sigstore/sigstore pkg/signature/payload) for `repository@digest`. */
function simpleSigningPayload(
  repository: string,
  digest: string,
  annotations?: Record<string, string>,
): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": repository },
        image: { "docker-manifest-digest": digest },
        type: "cosign container image signature",
      },
      optional: annotations && Object.keys(annotations).length ? annotations : null,
    }),
  );
}

/** A signature in cosign's wire encoding: ECDSA as ASN.1 DER, RSA PKCS#1 v1.5 SHA-256. */
export async function cosignSign(signer: Signer, data: Uint8Array): Promise<Buffer> {
  const alg = cosignAlgFor(signer.spec);
  const raw = await signer.sign(data, alg);
  return alg.startsWith("ES") ? ecdsaRawToDer(raw) : raw;
}

/**
 * Verifies a cosign-encoded signature as `cosign verify --key` does (its default
 * --signature-digest-algorithm sha256): ECDSA (any curve) over SHA-256 in ASN.1 DER, RSA PKCS#1 v1.5 with
 * SHA-256, or ed25519. `loose` (mutation testing only) also takes RSA-PSS and the curve's own hash.
 */
export function cosignVerify(
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
  opts: { loose?: boolean } = {},
): boolean {
  const type = publicKey.asymmetricKeyType;
  if (type === "ec") {
    if (verifyRaw("ES256", publicKey, data, signature, { der: true })) return true;
    if (!opts.loose) return false;
    const curve = publicKey.asymmetricKeyDetails?.namedCurve;
    const alg: SignatureAlg = curve === "secp384r1" ? "ES384" : curve === "secp521r1" ? "ES512" : "ES256";
    return verifyRaw(alg, publicKey, data, signature, { der: true });
  }
  if (type === "ed25519") return verifyEd25519(publicKey, data, signature);
  return (
    verifyRaw("RS256", publicKey, data, signature) ||
    (!!opts.loose && verifyRaw("PS256", publicKey, data, signature))
  );
}

function verifyEd25519(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return nodeVerify(null, data, key, sig);
  } catch {
    return false;
  }
}

/** One legacy cosign signature: the layer (payload blob + annotation) in the `.sig` manifest. */
export interface CosignLegacyLayer {
  payload: Buffer;
  descriptor: Descriptor;
}

export async function cosignLegacySignature(
  signer: Signer,
  repository: string,
  digest: string,
  annotations?: Record<string, string>,
): Promise<CosignLegacyLayer> {
  const payload = simpleSigningPayload(repository, digest, annotations);
  const sig = await cosignSign(signer, payload);
  return {
    payload,
    descriptor: {
      mediaType: SIMPLESIGNING_MEDIA_TYPE,
      digest: sha256Digest(payload),
      size: payload.length,
      annotations: { [COSIGN_SIGNATURE_ANNOTATION]: sig.toString("base64") },
    },
  };
}

/** The `.sig` manifest holding `layers` (cosign appends one layer per signature). */
export function cosignLegacyManifest(layers: Descriptor[]): OciManifest {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { ...EMPTY_CONFIG },
    layers,
  };
}

/** An in-toto Statement v1 about one image digest. */
export function inTotoStatement(
  digest: string,
  predicateType: string,
  predicate: unknown,
  name?: string,
): Buffer {
  const [alg, hex] = digest.split(":");
  return Buffer.from(
    JSON.stringify({
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ ...(name ? { name } : {}), digest: { [alg!]: hex } }],
      predicateType,
      predicate,
    }),
  );
}

/**
 * @sigstore/sign, loaded on first use. It is CommonJS: bundled, a dynamic import sees only `default`
 * (module.exports); unbundled, Node also lifts the named exports. Both carry every export on `default`.
 */
export async function loadSigstoreSign(): Promise<typeof import("@sigstore/sign")> {
  const m = await import("@sigstore/sign");
  return (m as unknown as { default?: typeof m }).default ?? m;
}

/** Adapts our Signer to @sigstore/sign: key-based (public key with a hint), signature in cosign encoding. */
export function sigstoreKeySigner(signer: Signer): SigstoreSigner {
  const publicKey = signer.publicKey.export({ type: "spki", format: "pem" }).toString();
  // No key hint: it becomes the DSSE signature's keyid, and cosign skips signatures whose keyid differs
  // from its own idea of the key's id (cosign writes an empty keyid too).
  return {
    async sign(data) {
      return { signature: await cosignSign(signer, data), key: { $case: "publicKey", publicKey } };
    },
  };
}

/** A Sigstore bundle v0.3 with a DSSE envelope over an in-toto statement, built by @sigstore/sign (key-based: no witnesses). */
export async function dsseBundle(
  signer: SigstoreSigner,
  statement: Buffer,
  witnesses: Witness[] = [],
): Promise<Buffer> {
  const { DSSEBundleBuilder } = await loadSigstoreSign();
  const builder = new DSSEBundleBuilder({ signer, witnesses });
  const bundle = await builder.create({ data: statement, type: INTOTO_PAYLOAD_TYPE });
  return Buffer.from(JSON.stringify(bundleToJSON(bundle)));
}

/** The referrer manifest cosign v3 pushes for a bundle (artifactType = bundle media type). */
export function bundleManifest(
  bundle: Uint8Array,
  subject: Descriptor,
  predicateType: string,
  created = new Date(),
): OciManifest {
  const plain = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
  return referrerManifest(BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPE, bundle, plain, created, {
    [BUNDLE_CONTENT_ANNOTATION]: "dsse-envelope",
    [BUNDLE_PREDICATE_ANNOTATION]: predicateType,
  });
}

/** What a DSSE bundle says and who signed it. */
export interface ParsedBundle {
  bundle: Bundle;
  payloadType: string;
  statement: {
    _type?: string;
    subject?: Array<{ name?: string; digest?: Record<string, string> }>;
    predicateType?: string;
    predicate?: unknown;
  };
  /** DER certificate of a keyless signature, if any. */
  certificate?: Buffer;
  pae: Buffer;
  signature: Buffer;
}

export function parseBundle(bytes: Uint8Array): ParsedBundle {
  const bundle = bundleFromJSON(JSON.parse(Buffer.from(bytes).toString("utf8")));
  if (bundle.content.$case !== "dsseEnvelope") throw new Error("the bundle holds no DSSE envelope");
  const env = bundle.content.dsseEnvelope;
  const vm = bundle.verificationMaterial.content;
  const certificate =
    vm.$case === "certificate"
      ? vm.certificate.rawBytes
      : vm.$case === "x509CertificateChain"
        ? vm.x509CertificateChain.certificates[0]?.rawBytes
        : undefined;
  return {
    bundle,
    payloadType: env.payloadType,
    statement: JSON.parse(env.payload.toString("utf8")),
    certificate,
    pae: preAuthEncoding(env.payloadType, env.payload),
    signature: env.signatures[0]?.sig ?? Buffer.alloc(0),
  };
}

/** DSSE PAE: "DSSEv1" SP len(type) SP type SP len(body) SP body. */
export function preAuthEncoding(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type);
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${body.length} `), body]);
}

export function publicKeyPem(key: KeyObject): string {
  return derToPem(key.export({ type: "spki", format: "der" }), "PUBLIC KEY");
}
