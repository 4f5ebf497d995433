import type { KeyObject } from "node:crypto";
import { createLogger, type Logger, PlatformError } from "@platform/core";
import { type Descriptor, parseReference, type RegistryClient } from "@platform/oci";
import type { VerifyCheckName } from "./checks.ts";
import {
  BUNDLE_MEDIA_TYPE,
  BUNDLE_PREDICATE_ANNOTATION,
  COSIGN_SIGN_PREDICATE,
  COSIGN_SIGNATURE_ANNOTATION,
  cosignSignatureTag,
  cosignVerify,
  parseBundle,
} from "./cosign.ts";
import { sha256Hex } from "./crypto.ts";
import { type KeylessPolicy, statementDigestMismatch, verifyKeylessBundle } from "./keyless-verify.ts";
import { JWS_MEDIA_TYPE, NOTARY_ARTIFACT_TYPE, type OciManifest } from "./notary.ts";
import { storeFor } from "./sign.ts";
import type { ArtifactStore } from "./store.ts";
import { selectPolicy, type TrustPolicyDocument, type TrustStore, verifyNotarySignature } from "./trust.ts";

const BUNDLE_TYPES = [
  BUNDLE_MEDIA_TYPE,
  "application/vnd.dev.sigstore.bundle+json;version=0.3",
  "application/vnd.dev.sigstore.bundle+json;version=0.2",
  "application/vnd.dev.sigstore.bundle+json;version=0.1",
];

export interface VerifyOptions {
  /** repo@sha256:… or repo:tag (resolved to its digest first). */
  imageRef: string;
  client?: RegistryClient;
  /** Where the image and its referrers live instead of the registry (e.g. an OCI layout). */
  store?: ArtifactStore;
  /** Notation trust policy document and store: Notary Project signatures must satisfy them. */
  notation?: { policy: TrustPolicyDocument; store: TrustStore };
  /** cosign public keys: a cosign signature by one of them must exist. */
  cosignKeys?: Array<{ name: string; key: KeyObject }>;
  /** Keyless (Fulcio certificate) cosign bundles: the identity, issuer and trusted root they must satisfy. */
  keyless?: KeylessPolicy;
  log?: Logger;
  now?: Date;
  /** Mutation testing only; not reachable from the action or CLI. */
  disabledChecks?: ReadonlySet<VerifyCheckName>;
}

/** One signature looked at, and what became of it. */
export interface SignatureCheck {
  format: "notation" | "cosign-bundle" | "cosign-legacy" | "attestation";
  /** Referrer manifest digest (or the `.sig` tag). */
  source: string;
  ok: boolean;
  signer?: string;
  reason?: string;
  predicateType?: string;
  warnings?: string[];
}

export interface VerifyResult {
  image: string;
  digest: string;
  verified: boolean;
  /** Identities whose signatures verified (leaf subjects, cosign key names). */
  signers: string[];
  /** Why verification failed: one line per required format that found no good signature. */
  reasons: string[];
  checks: SignatureCheck[];
  /** The notation trust policy applied, if any. */
  policy?: string;
}

/** Verifies an image's Notary Project and/or cosign signatures; never throws for a bad signature, only reports. */
export async function verifyImage(opts: VerifyOptions): Promise<VerifyResult> {
  const log = opts.log ?? createLogger({ write() {} });
  const cosign = !!opts.cosignKeys?.length || !!opts.keyless;
  if (!opts.notation && !cosign) {
    throw new PlatformError(
      "VERIFY_NOTHING_TO_CHECK",
      "Nothing to verify against: no trust policy, no cosign key and no keyless identity",
      {
        input: "trust-policy",
        hint: "Pass trust-policy and trust-store (Notary Project signatures), cosign-key (cosign signatures) and/or certificate-identity, certificate-oidc-issuer and trusted-root (keyless cosign signatures).",
      },
    );
  }
  const ref = parseReference(opts.imageRef, { input: "image-ref" });
  const store = storeFor(opts, ref);
  const subject = await store.resolve(ref.digest ?? ref.tag ?? "latest");
  const digest = subject.digest;
  const repository = `${ref.registry}/${ref.repository}`;
  const listed = await store.listReferrers(digest);
  let referrers = listed.descriptors;
  const relevant = (d: Descriptor) =>
    (opts.notation && d.artifactType === NOTARY_ARTIFACT_TYPE) ||
    (cosign && BUNDLE_TYPES.includes(d.artifactType ?? ""));
  if (listed.mode === "api" && !referrers.some(relevant)) {
    // Some registries answer the referrers API but do not index manifests pushed the tag-schema way
    // (notation's default --force-referrers-tag): look at the sha256-<hex> index as well.
    const extra = (await store.fallbackReferrers(digest)).filter(
      (d) => !referrers.some((r) => r.digest === d.digest),
    );
    referrers = [...referrers, ...extra];
  }
  log.debug(`${referrers.length} referrer(s) of ${repository}@${digest}`);
  const checks: SignatureCheck[] = [];
  const reasons: string[] = [];
  const signers = new Set<string>();
  let policyName: string | undefined;

  const fetchLayer = async (d: Descriptor, mediaTypes: string[]): Promise<Buffer | undefined> => {
    const m = await store.getManifest(d.digest);
    const layer = (m?.manifest as OciManifest | undefined)?.layers?.find((l) =>
      mediaTypes.includes(l.mediaType),
    );
    return layer ? Buffer.from(await store.getBlob(layer.digest, layer.size)) : undefined;
  };

  if (opts.notation) {
    const policy = selectPolicy(opts.notation.policy, repository);
    if (!policy) {
      throw new PlatformError(
        "TRUST_POLICY_NO_MATCH",
        `No trust policy's registryScopes covers ${repository}`,
        {
          input: "trust-policy",
          hint: `Add "${repository}" to a policy's registryScopes, or a policy with registryScopes ["*"].`,
        },
      );
    }
    policyName = policy.name;
    if (policy.signatureVerification.level === "skip") {
      checks.push({
        format: "notation",
        source: "-",
        ok: true,
        reason: `policy "${policy.name}" skips verification`,
      });
    } else {
      const sigs = referrers.filter((d) => d.artifactType === NOTARY_ARTIFACT_TYPE);
      // Fetched concurrently, checked in order.
      const envelopes = await Promise.all(sigs.map((d) => fetchLayer(d, [JWS_MEDIA_TYPE])));
      let good = false;
      for (const [n, d] of sigs.entries()) {
        const envelope = envelopes[n];
        if (!envelope) {
          checks.push({
            format: "notation",
            source: d.digest,
            ok: false,
            reason: "not a JWS signature (COSE is not supported)",
          });
          continue;
        }
        const v = verifyNotarySignature(envelope, digest, policy, opts.notation.store, opts.now, opts);
        checks.push({
          format: "notation",
          source: d.digest,
          ok: v.ok,
          signer: v.signer,
          reason: v.reason,
          warnings: v.warnings,
        });
        if (v.ok) {
          good = true;
          if (v.signer) signers.add(v.signer);
        }
      }
      if (!good) {
        reasons.push(
          sigs.length === 0
            ? `no signature: no Notary Project signature is attached to ${repository}@${digest}`
            : `Notary Project: ${sigs.length} signature(s), none trusted by policy "${policy.name}": ${checks
                .filter((c) => c.format === "notation" && !c.ok)
                .map((c) => c.reason)
                .join("; ")}`,
        );
      }
    }
  }

  if (cosign) {
    const keys = opts.cosignKeys ?? [];
    const byKey = keys.length
      ? (data: Buffer, sig: Buffer) => keys.find((k) => cosignVerify(k.key, data, sig))
      : undefined;
    let good = false;
    const bundles = referrers.filter((r) => BUNDLE_TYPES.includes(r.artifactType ?? ""));
    // Fetched concurrently (with the legacy `.sig` manifest below), checked in order.
    const tag = cosignSignatureTag(digest);
    const [layers, legacy] = await Promise.all([
      Promise.all(bundles.map((d) => fetchLayer(d, BUNDLE_TYPES))),
      store.getManifest(tag),
    ]);
    for (const [n, d] of bundles.entries()) {
      const predicate = d.annotations?.[BUNDLE_PREDICATE_ANNOTATION];
      const format = !predicate || predicate === COSIGN_SIGN_PREDICATE ? "cosign-bundle" : "attestation";
      const check = checkBundle(layers[n], digest, byKey, opts.keyless);
      checks.push({ format, source: d.digest, predicateType: check.predicateType ?? predicate, ...check });
      if (format === "cosign-bundle" && check.ok) {
        good = true;
        signers.add(check.signer!);
      }
    }
    // cosign's legacy layout: one layer per signature in the `sha256-<hex>.sig` manifest.
    for (const layer of (legacy?.manifest as OciManifest | undefined)?.layers ?? []) {
      const sig = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
      if (!sig) continue;
      const payload = Buffer.from(await store.getBlob(layer.digest, layer.size));
      const key = byKey?.(payload, Buffer.from(sig, "base64"));
      let claimed: string | undefined;
      try {
        claimed = JSON.parse(payload.toString("utf8"))?.critical?.image?.["docker-manifest-digest"];
      } catch {
        claimed = undefined;
      }
      const check: SignatureCheck = !key
        ? {
            format: "cosign-legacy",
            source: tag,
            ok: false,
            reason: keys.length
              ? wrongKeyReason(keys)
              : "a .sig-tag signature: keyless verification covers sigstore bundle referrers only",
          }
        : claimed !== digest
          ? {
              format: "cosign-legacy",
              source: tag,
              ok: false,
              signer: key.name,
              reason: `digest mismatch: the signature is for ${claimed}, not ${digest}`,
            }
          : { format: "cosign-legacy", source: tag, ok: true, signer: key.name };
      checks.push(check);
      if (check.ok) {
        good = true;
        signers.add(key!.name);
      }
    }
    if (!good) {
      const tried = checks.filter((c) => c.format === "cosign-bundle" || c.format === "cosign-legacy");
      reasons.push(
        tried.length === 0
          ? `no signature: no cosign signature (bundle referrer or ${tag}) is attached to ${repository}@${digest}`
          : `cosign: ${tried.length} signature(s), none valid: ${tried.map((c) => c.reason).join("; ")}`,
      );
    }
  }

  return {
    image: `${repository}@${digest}`,
    digest,
    verified: reasons.length === 0,
    signers: [...signers],
    reasons,
    checks,
    ...(policyName ? { policy: policyName } : {}),
  };
}

function wrongKeyReason(keys: Array<{ name: string }>): string {
  return `tampered payload or wrong key: the signature does not verify with ${keys.map((k) => k.name).join(", ")}`;
}

function checkBundle(
  bytes: Buffer | undefined,
  digest: string,
  byKey: ((data: Buffer, sig: Buffer) => { name: string } | undefined) | undefined,
  keyless: KeylessPolicy | undefined,
): Omit<SignatureCheck, "format" | "source"> {
  if (!bytes) return { ok: false, reason: "the referrer holds no sigstore bundle layer" };
  let parsed: ReturnType<typeof parseBundle>;
  try {
    parsed = parseBundle(bytes);
  } catch (err) {
    return { ok: false, reason: `tampered payload: the bundle does not parse (${(err as Error).message})` };
  }
  const predicateType = parsed.statement.predicateType;
  if (parsed.certificate) {
    if (keyless) return { predicateType, ...verifyKeylessBundle(parsed, digest, keyless) };
    return {
      ok: false,
      predicateType,
      reason:
        "keyless (certificate) bundle: pass certificate-identity, certificate-oidc-issuer and trusted-root to verify it",
    };
  }
  if (!byKey) return { ok: false, predicateType, reason: "a key-based bundle, and no cosign-key was given" };
  const key = byKey(parsed.pae, parsed.signature);
  if (!key) return { ok: false, predicateType, reason: wrongKeyReason([{ name: "the cosign key(s)" }]) };
  const mismatch = statementDigestMismatch(parsed.statement, digest);
  if (mismatch) return { ok: false, predicateType, signer: key.name, reason: mismatch };
  return { ok: true, predicateType, signer: key.name };
}

/** A cosign key's display name: the file name, or `key sha256:<first 12 hex>`. */
export function cosignKeyName(key: KeyObject, file?: string): string {
  return file ?? `key sha256:${sha256Hex(key.export({ type: "spki", format: "der" })).slice(0, 12)}`;
}
