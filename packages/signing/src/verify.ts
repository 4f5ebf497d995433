import type { KeyObject } from "node:crypto";
import { createLogger, type Logger, PlatformError } from "@platform/core";
import { type Descriptor, parseReference, type RegistryClient } from "@platform/oci";
import { checkOn, type VerifyCheckName } from "./checks.ts";
import {
  BUNDLE_MEDIA_TYPE,
  BUNDLE_PREDICATE_ANNOTATION,
  COSIGN_SIGN_PREDICATE,
  COSIGN_SIGNATURE_ANNOTATION,
  cosignSignatureTag,
  cosignVerify,
  INTOTO_PAYLOAD_TYPE,
  parseBundle,
} from "./cosign.ts";
import { sha256Hex } from "./crypto.ts";
import { type KeylessPolicy, statementDigestMismatch, verifyKeylessBundle } from "./keyless-verify.ts";
import { COSE_MEDIA_TYPE, JWS_MEDIA_TYPE, NOTARY_ARTIFACT_TYPE, type OciManifest } from "./notary.ts";
import { actionsOf, selectPolicy, type TrustPolicy, type TrustPolicyDocument } from "./policy.ts";
import { storeFor } from "./sign.ts";
import type { ArtifactStore } from "./store.ts";
import { type TrustStore, verifyNotarySignature } from "./trust.ts";

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
  /** Why it failed, for machines: a VERIFY_CHECKS name, a notation check or an error code. */
  code?: string;
  /** How to fix a broken signature (re-sign, remove the referrer). */
  hint?: string;
  predicateType?: string;
  warnings?: string[];
}

export interface VerifyResult {
  image: string;
  digest: string;
  verified: boolean;
  /** Identities whose signatures verified and are trusted (leaf subjects, cosign key names); never an audit-only signer. */
  signers: string[];
  /** Why verification failed: one line per required format that found no good signature. */
  reasons: string[];
  checks: SignatureCheck[];
  /** The notation trust policy applied, if any. */
  policy?: string;
}

const BROKEN_HINT =
  "A referrer that does not hold a well-formed signature: remove it (oras manifest delete <repo>@<digest>) or re-sign the image.";
/** notation stops at a signature manifest it cannot read; at most this many signatures are tried (notation's --max-signatures default). */
const MAX_NOTARY_SIGNATURES = 100;

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
  const policy = opts.notation ? notationPolicy(opts.notation.policy, repository) : undefined;
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
  const broken = (format: SignatureCheck["format"], source: string, err: unknown): SignatureCheck => ({
    format,
    source,
    ok: false,
    code: err instanceof PlatformError ? err.code : "VERIFY_REFERRER_UNREADABLE",
    reason: `unreadable referrer: ${(err as Error)?.message ?? String(err)}`,
    hint: BROKEN_HINT,
  });

  /** The one layer of a referrer manifest, or why there is not exactly one. */
  const soleLayer = async (d: Descriptor): Promise<{ layer?: Descriptor; problem?: string }> => {
    const m = await store.getManifest(d.digest);
    const layers = (m?.manifest as OciManifest | undefined)?.layers;
    if (!m) return { problem: "the referrer manifest is missing" };
    if (!Array.isArray(layers) || layers.length !== 1) {
      return { problem: `the signature manifest must hold exactly one layer, not ${layers?.length ?? 0}` };
    }
    return { layer: layers[0] };
  };
  const blob = async (l: Descriptor) => Buffer.from(await store.getBlob(l.digest, l.size));

  if (opts.notation && policy) {
    if (policy.signatureVerification.level === "skip") {
      checks.push({
        format: "notation",
        source: "-",
        ok: true,
        reason: `policy "${policy.name}" skips verification`,
      });
    } else {
      const sigs = referrers
        .filter((d) => d.artifactType === NOTARY_ARTIFACT_TYPE)
        .slice(0, MAX_NOTARY_SIGNATURES);
      // Fetched concurrently, checked in order; a fetch failure is that signature's failure.
      const fetched = await Promise.all(
        sigs.map(async (d) => {
          try {
            const { layer, problem } = await soleLayer(d);
            if (!layer) return { problem };
            return { layer, bytes: layer.mediaType === JWS_MEDIA_TYPE ? await blob(layer) : undefined };
          } catch (err) {
            return { error: err };
          }
        }),
      );
      let good = false;
      let fatal: string | undefined;
      for (const [n, d] of sigs.entries()) {
        const f = fetched[n]!;
        if ("error" in f || f.problem) {
          const check =
            "error" in f
              ? broken("notation", d.digest, f.error)
              : {
                  format: "notation" as const,
                  source: d.digest,
                  ok: false,
                  code: "NOTARY_MANIFEST_INVALID",
                  reason: f.problem,
                  hint: BROKEN_HINT,
                };
          checks.push(check);
          // notation gives up on the whole verification at a signature manifest it cannot read.
          fatal ??= `signature manifest ${d.digest} cannot be read (${check.reason}); notation stops there, so this does too`;
          continue;
        }
        if (f.layer!.mediaType !== JWS_MEDIA_TYPE) {
          checks.push({
            format: "notation",
            source: d.digest,
            ok: false,
            code: f.layer!.mediaType === COSE_MEDIA_TYPE ? "NOTARY_COSE_UNSUPPORTED" : "NOTARY_ENVELOPE_TYPE",
            reason:
              f.layer!.mediaType === COSE_MEDIA_TYPE
                ? "a COSE envelope: this tool verifies JWS envelopes only (verify this one with notation, or re-sign with --signature-format jws)"
                : `not a Notary Project envelope (layer media type ${f.layer!.mediaType})`,
          });
          continue;
        }
        const v = verifyNotarySignature(f.bytes!, subject, policy, opts.notation.store, opts.now, opts);
        checks.push({
          format: "notation",
          source: d.digest,
          ok: v.ok,
          signer: v.signer,
          reason: v.reason,
          ...(v.code ? { code: v.code } : {}),
          ...(v.code === "NOTARY_ENVELOPE_INVALID" ? { hint: BROKEN_HINT } : {}),
          warnings: v.warnings,
        });
        if (v.ok) {
          good = true;
          if (v.signer && v.trusted !== false) signers.add(v.signer);
        }
      }
      if (fatal) reasons.push(`Notary Project: ${fatal}`);
      else if (!good) {
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
    const loose = !checkOn(opts, "alg.allowed");
    const byKey = keys.length
      ? (data: Buffer, sig: Buffer) => keys.find((k) => cosignVerify(k.key, data, sig, { loose }))
      : undefined;
    let good = false;
    const bundles = referrers.filter((r) => BUNDLE_TYPES.includes(r.artifactType ?? ""));
    // Fetched concurrently (with the legacy `.sig` manifest below), checked in order.
    const tag = cosignSignatureTag(digest);
    const [layers, legacy] = await Promise.all([
      Promise.all(
        bundles.map(async (d) => {
          try {
            const m = await store.getManifest(d.digest);
            const layer = (m?.manifest as OciManifest | undefined)?.layers?.find((l) =>
              BUNDLE_TYPES.includes(l.mediaType),
            );
            return { bytes: layer ? await blob(layer) : undefined };
          } catch (err) {
            return { error: err };
          }
        }),
      ),
      store.getManifest(tag).catch((err: unknown) => ({ error: err })),
    ]);
    for (const [n, d] of bundles.entries()) {
      const l = layers[n]!;
      if ("error" in l) {
        checks.push(broken("cosign-bundle", d.digest, l.error));
        continue;
      }
      const check = checkBundle(l.bytes, digest, byKey, opts.keyless);
      const annotated = d.annotations?.[BUNDLE_PREDICATE_ANNOTATION];
      // Signature or attestation is what the signed statement says, never the referrer's annotation.
      const isSignature = checkOn(opts, "bundle.signedType")
        ? check.payloadType === INTOTO_PAYLOAD_TYPE && check.predicateType === COSIGN_SIGN_PREDICATE
        : !annotated || annotated === COSIGN_SIGN_PREDICATE;
      const { payloadType: _, ...rest } = check;
      checks.push({
        format: isSignature ? "cosign-bundle" : "attestation",
        source: d.digest,
        ...rest,
        predicateType: check.predicateType ?? annotated,
        ...(!check.ok && !check.code ? { code: "COSIGN_BUNDLE_INVALID" } : {}),
      });
      if (isSignature && check.ok) {
        good = true;
        signers.add(check.signer!);
      }
    }
    // cosign's legacy layout: one layer per signature in the `sha256-<hex>.sig` manifest.
    if (legacy && "error" in legacy) checks.push(broken("cosign-legacy", tag, legacy.error));
    const legacyLayers =
      legacy && !("error" in legacy) ? ((legacy.manifest as OciManifest).layers ?? []) : [];
    for (const layer of legacyLayers) {
      const sig = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
      if (!sig) continue;
      let check: SignatureCheck;
      try {
        check = checkLegacy(await blob(layer), sig, digest, tag, keys, byKey);
      } catch (err) {
        check = broken("cosign-legacy", tag, err);
      }
      checks.push(check);
      if (check.ok) {
        good = true;
        signers.add(check.signer!);
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
    ...(policy ? { policy: policy.name } : {}),
  };
}

/** The trust policy for `repository`; refuses one that enforces revocation (never checked here, so never silently passed). */
function notationPolicy(doc: TrustPolicyDocument, repository: string): TrustPolicy {
  const policy = selectPolicy(doc, repository);
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
  if (policy.signatureVerification.level !== "skip" && actionsOf(policy).revocation === "enforce") {
    throw new PlatformError(
      "TRUST_POLICY_REVOCATION_UNSUPPORTED",
      `Trust policy "${policy.name}" enforces revocation checking (level ${policy.signatureVerification.level}), which this tool does not do (no OCSP/CRL lookups)`,
      {
        input: "trust-policy",
        hint: 'Add "override": {"revocation": "skip"} (or "log") to its signatureVerification, or verify with notation where the OCSP/CRL endpoints are reachable.',
      },
    );
  }
  return policy;
}

function checkLegacy(
  payload: Buffer,
  sig: string,
  digest: string,
  tag: string,
  keys: Array<{ name: string }>,
  byKey: ((data: Buffer, sig: Buffer) => { name: string } | undefined) | undefined,
): SignatureCheck {
  const key = byKey?.(payload, Buffer.from(sig, "base64"));
  if (!key) {
    return {
      format: "cosign-legacy",
      source: tag,
      ok: false,
      code: "COSIGN_SIGNATURE_INVALID",
      reason: keys.length
        ? wrongKeyReason(keys)
        : "a .sig-tag signature: keyless verification covers sigstore bundle referrers only",
    };
  }
  let claimed: unknown;
  try {
    claimed = JSON.parse(payload.toString("utf8"))?.critical?.image?.["docker-manifest-digest"];
  } catch {
    claimed = undefined;
  }
  if (claimed !== digest) {
    return {
      format: "cosign-legacy",
      source: tag,
      ok: false,
      signer: key.name,
      code: "COSIGN_DIGEST_MISMATCH",
      reason: `digest mismatch: the signature is for ${String(claimed)}, not ${digest}`,
    };
  }
  return { format: "cosign-legacy", source: tag, ok: true, signer: key.name };
}

function wrongKeyReason(keys: Array<{ name: string }>): string {
  return `tampered payload or wrong key: the signature does not verify with ${keys.map((k) => k.name).join(", ")}`;
}

function checkBundle(
  bytes: Buffer | undefined,
  digest: string,
  byKey: ((data: Buffer, sig: Buffer) => { name: string } | undefined) | undefined,
  keyless: KeylessPolicy | undefined,
): Omit<SignatureCheck, "format" | "source"> & { payloadType?: string } {
  if (!bytes) return { ok: false, reason: "the referrer holds no sigstore bundle layer" };
  let parsed: ReturnType<typeof parseBundle>;
  try {
    parsed = parseBundle(bytes);
  } catch (err) {
    return {
      ok: false,
      code: "COSIGN_BUNDLE_INVALID",
      reason: `tampered payload: the bundle does not parse (${(err as Error).message})`,
      hint: BROKEN_HINT,
    };
  }
  const predicateType = parsed.statement.predicateType;
  const payloadType = parsed.payloadType;
  if (parsed.certificate) {
    if (keyless) return { predicateType, payloadType, ...verifyKeylessBundle(parsed, digest, keyless) };
    return {
      ok: false,
      predicateType,
      payloadType,
      reason:
        "keyless (certificate) bundle: pass certificate-identity, certificate-oidc-issuer and trusted-root to verify it",
    };
  }
  if (!byKey)
    return {
      ok: false,
      predicateType,
      payloadType,
      reason: "a key-based bundle, and no cosign-key was given",
    };
  const key = byKey(parsed.pae, parsed.signature);
  if (!key)
    return { ok: false, predicateType, payloadType, reason: wrongKeyReason([{ name: "the cosign key(s)" }]) };
  const mismatch = statementDigestMismatch(parsed.statement, digest);
  if (mismatch) return { ok: false, predicateType, payloadType, signer: key.name, reason: mismatch };
  return { ok: true, predicateType, payloadType, signer: key.name };
}

/** A cosign key's display name: the file name, or `key sha256:<first 12 hex>`. */
export function cosignKeyName(key: KeyObject, file?: string): string {
  return file ?? `key sha256:${sha256Hex(key.export({ type: "spki", format: "der" })).slice(0, 12)}`;
}
