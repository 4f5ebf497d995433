import { createLogger, type Logger, PlatformError } from "@platform/core";
import {
  EMPTY_JSON,
  encodeJson,
  MediaType,
  parseReference,
  type Reference,
  type RegistryClient,
} from "@platform/oci";
import { githubProvenance, readSbom, SLSA_PROVENANCE_V1 } from "./attest.ts";
import {
  BUNDLE_MEDIA_TYPE,
  bundleManifest,
  COSIGN_SIGN_PREDICATE,
  COSIGN_SIGNATURE_ANNOTATION,
  cosignLegacyManifest,
  cosignLegacySignature,
  cosignSignatureTag,
  cosignVerify,
  dsseBundle,
  INTOTO_PAYLOAD_TYPE,
  inTotoStatement,
  parseBundle,
  sigstoreKeySigner,
} from "./cosign.ts";
import { keySpecOf, notaryAlgFor, sha256Hex, subjectOf, verifyRaw, x509 } from "./crypto.ts";
import { isKeyless, type KeylessSigning } from "./keyless.ts";
import { statementDigestMismatch } from "./keyless-verify.ts";
import {
  type Descriptor,
  JWS_MEDIA_TYPE,
  NOTARY_ARTIFACT_TYPE,
  notarySignatureManifest,
  type OciManifest,
  parseNotaryJws,
  signNotaryJws,
} from "./notary.ts";
import type { Signer } from "./signer.ts";
import { type ArtifactStore, registryStore } from "./store.ts";

export type SignFormat = "notation" | "cosign" | "both";
/** Where cosign signatures go: the sigstore bundle referrer (cosign v3), the `.sig` tag (v1/v2, Kyverno), or both. */
export type CosignLayout = "bundle" | "legacy" | "both";

/** Annotation on our referrers: SHA-256 of the signing key's SubjectPublicKeyInfo, to make re-runs idempotent. */
export const KEY_ANNOTATION = "io.platform.signing.key";

export interface SignOptions {
  /** repo@sha256:… (a tag alone is refused: sign what was scanned). */
  imageRef: string;
  format: SignFormat;
  /** A key (local, Key Vault) or keyless signing through Fulcio. */
  signer: Signer | KeylessSigning;
  /** The registry client; the image's repository is the store (unless `store` is given). */
  client?: RegistryClient;
  /** Where the image and its referrers live instead of the registry (e.g. an OCI layout). */
  store?: ArtifactStore;
  cosignLayout?: CosignLayout;
  /** Path of a CycloneDX or SPDX JSON SBOM to attest. */
  sbom?: string;
  /** Attach SLSA provenance v1 built from this GitHub context (GITHUB_* variables). */
  provenance?: NodeJS.ProcessEnv;
  log?: Logger;
  now?: Date;
}

export interface SignedArtifact {
  kind: "notation" | "cosign-bundle" | "cosign-legacy" | "sbom" | "provenance";
  /** Digest of the referrer manifest (or of the `.sig` manifest). */
  digest: string;
  artifactType: string;
  /** How it was attached: referrers API, fallback tag index, cosign's `.sig` tag, or already there. */
  mode: "api" | "tag" | "layout" | "sig-tag" | "exists";
}

export interface SignResult {
  image: string;
  digest: string;
  signer: string;
  /** Subject of the leaf certificate (Notary) or the key id. */
  identity: string;
  signatures: SignedArtifact[];
  referrers: SignedArtifact[];
}

/** Signs an image by digest and attaches its signatures and attestations as referrers. */
export async function signImage(opts: SignOptions): Promise<SignResult> {
  const log = opts.log ?? createLogger({ write() {} });
  const ref = parseImageDigestRef(opts.imageRef);
  const keyless = isKeyless(opts.signer) ? opts.signer : undefined;
  const signer = opts.signer as Signer;
  const store = storeFor(opts, ref);
  const now = opts.now ?? new Date();
  if (keyless && opts.format === "notation") {
    throw new PlatformError(
      "SIGN_KEYLESS_NOTATION",
      "Keyless signing makes cosign (sigstore) signatures only",
      {
        input: "format",
        hint: "Notary Project signatures need a certificate chain your trust store holds: use a Key Vault or PEM key, or format: cosign.",
      },
    );
  }
  if (keyless && opts.format === "both")
    log.warn("keyless: Notary Project signature skipped (cosign bundle only)");
  const keyId = keyless
    ? sha256Hex(`keyless:${keyless.identity}`)
    : sha256Hex(signer.publicKey.export({ type: "spki", format: "der" }));
  const wantNotation = !keyless && opts.format !== "cosign";
  const wantCosign = opts.format !== "notation";
  // Keyless signatures live in the bundle (certificate and transparency-log entry inside it).
  const layout = keyless ? "bundle" : (opts.cosignLayout ?? "both");
  if (wantNotation && signer.certificates.length === 0) {
    throw new PlatformError(
      "SIGNING_CHAIN_MISSING",
      `Notary Project signatures need a certificate chain for ${signer.id}`,
      {
        input: "certificate-chain",
        hint: "Pass certificate-chain (PEM, leaf first), use a Key Vault key that has a certificate, or sign with format: cosign.",
      },
    );
  }
  // Read everything that can fail before writing anything: SBOM file, subject, existing referrers.
  const sbom = opts.sbom ? await readSbom(opts.sbom) : undefined;
  const [subject, listed] = await Promise.all([store.resolve(ref.digest!), store.listReferrers(ref.digest!)]);
  const existing = listed.descriptors;
  log.debug(`${existing.length} referrer(s) already attached to ${ref}`);

  // "Already signed" is decided by verifying what is there (same key, same image), never by annotations:
  // anyone who can push can plant a referrer with any annotation.
  const envelopeOf = async (d: Descriptor, mediaTypes: string[]): Promise<Buffer | undefined> => {
    try {
      const m = await store.getManifest(d.digest);
      const layers = (m?.manifest as OciManifest | undefined)?.layers ?? [];
      const layer = layers.length === 1 && mediaTypes.includes(layers[0]!.mediaType) ? layers[0] : undefined;
      return layer ? Buffer.from(await store.getBlob(layer.digest, layer.size)) : undefined;
    } catch {
      return undefined;
    }
  };
  const ours = async (type: string, predicate: string): Promise<Descriptor | undefined> => {
    if (keyless) return undefined;
    for (const d of existing.filter((e) => e.artifactType === type)) {
      const bytes = await envelopeOf(d, [BUNDLE_MEDIA_TYPE]);
      if (bytes && bundleSignedBy(bytes, signer, subject.digest, predicate)) return d;
    }
    return undefined;
  };
  const pushReferrer = async (
    kind: SignedArtifact["kind"],
    manifest: OciManifest,
    blob: Buffer,
  ): Promise<SignedArtifact> => {
    manifest.annotations = { ...manifest.annotations, [KEY_ANNOTATION]: keyId };
    await Promise.all([store.pushBlob(EMPTY_JSON), store.pushBlob(blob, true)]);
    const pushed = await store.pushReferrer(encodeJson(manifest), MediaType.ociManifest);
    return { kind, digest: pushed.digest, artifactType: manifest.artifactType ?? "", mode: pushed.mode };
  };

  const signatures: SignedArtifact[] = [];
  const referrers: SignedArtifact[] = [];
  const target: Descriptor = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };

  if (wantNotation) {
    let found: Descriptor | undefined;
    for (const d of existing.filter((e) => e.artifactType === NOTARY_ARTIFACT_TYPE)) {
      const envelope = await envelopeOf(d, [JWS_MEDIA_TYPE]);
      if (envelope && notarySignedBy(envelope, signer.certificates[0]!, subject)) {
        found = d;
        break;
      }
    }
    if (found) {
      signatures.push({
        kind: "notation",
        digest: found.digest,
        artifactType: NOTARY_ARTIFACT_TYPE,
        mode: "exists",
      });
    } else {
      const envelope = await signNotaryJws(signer, target, { signingTime: now });
      const manifest = notarySignatureManifest(envelope, target, signer.certificates, now);
      signatures.push(await pushReferrer("notation", manifest, envelope));
    }
  }

  const sigstore =
    keyless?.sigstore ?? (wantCosign || sbom || opts.provenance ? sigstoreKeySigner(signer) : undefined);
  const attest = async (kind: SignedArtifact["kind"], predicateType: string, predicate: unknown) => {
    const found = await ours(BUNDLE_MEDIA_TYPE, predicateType);
    if (found)
      return { kind, digest: found.digest, artifactType: BUNDLE_MEDIA_TYPE, mode: "exists" as const };
    const statement = inTotoStatement(
      subject.digest,
      predicateType,
      predicate,
      `${ref.registry}/${ref.repository}`,
    );
    const bundle = await dsseBundle(sigstore!, statement, keyless?.witnesses);
    return pushReferrer(kind, bundleManifest(bundle, target, predicateType, now), bundle);
  };

  if (wantCosign && layout !== "legacy")
    signatures.push(await attest("cosign-bundle", COSIGN_SIGN_PREDICATE, {}));
  if (wantCosign && layout !== "bundle") signatures.push(await pushCosignLegacy(store, ref, signer));
  if (sbom) referrers.push(await attest("sbom", sbom.predicateType, sbom.document));
  if (opts.provenance) {
    referrers.push(
      await attest("provenance", SLSA_PROVENANCE_V1, githubProvenance(opts.provenance, { finishedOn: now })),
    );
  }
  const identity = keyless
    ? keyless.identity
    : signer.certificates[0]
      ? subjectOf(x509(signer.certificates[0]))
      : `key sha256:${keyId}`;
  return {
    image: `${ref.registry}/${ref.repository}@${subject.digest}`,
    digest: subject.digest,
    signer: (keyless ?? signer).id,
    identity,
    signatures,
    referrers: [...signatures.filter((s) => s.mode !== "sig-tag"), ...referrers],
  };
}

/** Parses an image reference that must carry a digest; a tag alone is a usage error naming image-ref. */
function parseImageDigestRef(imageRef: string): Reference {
  const ref = parseReference(imageRef, { input: "image-ref" });
  if (!ref.digest) {
    throw new PlatformError(
      "SIGN_DIGEST_REQUIRED",
      `image-ref "${imageRef}" has no digest; a tag can move after it was scanned`,
      {
        input: "image-ref",
        hint: "Pass the digest the build step produced: registry/repository@sha256:<64 hex> (build-scan's image-ref output).",
      },
    );
  }
  return ref;
}

/** Appends a layer to cosign's `sha256-<hex>.sig` manifest unless this key already signed it. */
async function pushCosignLegacy(
  store: ArtifactStore,
  ref: Reference,
  signer: Signer,
): Promise<SignedArtifact> {
  const tag = cosignSignatureTag(ref.digest!);
  const current = await store.getManifest(tag);
  const layers = (current?.manifest as OciManifest | undefined)?.layers ?? [];
  const repository = `${ref.registry}/${ref.repository}`;
  for (const layer of layers) {
    const sig = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    if (!sig) continue;
    const payload = Buffer.from(await store.getBlob(layer.digest, layer.size));
    if (
      cosignVerify(signer.publicKey, payload, Buffer.from(sig, "base64")) &&
      legacyDigest(payload) === ref.digest
    ) {
      return { kind: "cosign-legacy", digest: current!.digest, artifactType: "", mode: "exists" };
    }
  }
  const layer = await cosignLegacySignature(signer, repository, ref.digest!);
  await store.pushBlob(EMPTY_JSON);
  await store.pushBlob(layer.payload);
  const manifest = cosignLegacyManifest([...(layers as Descriptor[]), layer.descriptor]);
  const digest = await store.putTagged(encodeJson(manifest), MediaType.ociManifest, tag);
  return { kind: "cosign-legacy", digest, artifactType: "", mode: "sig-tag" };
}

/** The store a sign or verify call works on: the one given, else the image's registry repository. */
export function storeFor(
  opts: { client?: RegistryClient; store?: ArtifactStore },
  ref: Reference,
): ArtifactStore {
  if (opts.store) return opts.store;
  if (!opts.client)
    throw new PlatformError("SIGNING_NO_STORE", "Pass a registry client or an artifact store");
  return registryStore(opts.client, { registry: ref.registry, repository: ref.repository });
}

/** The image digest a simple-signing payload names (`critical.image.docker-manifest-digest`). */
function legacyDigest(payload: Buffer): string | undefined {
  try {
    return JSON.parse(payload.toString("utf8"))?.critical?.image?.["docker-manifest-digest"];
  } catch {
    return undefined;
  }
}

/** Whether a Notary JWS envelope is a valid signature by this leaf certificate over exactly `subject`. */
function notarySignedBy(envelope: Buffer, leaf: Buffer, subject: Descriptor): boolean {
  try {
    const sig = parseNotaryJws(envelope);
    const cert = sig.certificates[0];
    return (
      !!cert &&
      cert.equals(leaf) &&
      sig.alg === notaryAlgFor(keySpecOf(x509(cert).publicKey)) &&
      verifyRaw(sig.alg, x509(cert).publicKey, sig.signingInput, sig.signature) &&
      sig.target.digest === subject.digest &&
      sig.target.mediaType === subject.mediaType &&
      sig.target.size === subject.size
    );
  } catch {
    return false;
  }
}

/** Whether a sigstore bundle is a valid DSSE signature by this key over an in-toto statement of `predicate` about `digest`. */
function bundleSignedBy(bytes: Buffer, signer: Signer, digest: string, predicate: string): boolean {
  try {
    const parsed = parseBundle(bytes);
    return (
      !parsed.certificate &&
      parsed.payloadType === INTOTO_PAYLOAD_TYPE &&
      parsed.statement.predicateType === predicate &&
      cosignVerify(signer.publicKey, parsed.pae, parsed.signature) &&
      !statementDigestMismatch(parsed.statement, digest)
    );
  } catch {
    return false;
  }
}
