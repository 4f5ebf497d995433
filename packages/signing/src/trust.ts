import type { X509Certificate } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError } from "@platform/core";
import type { CheckSwitches } from "./checks.ts";
import {
  assertAlgMatchesKey,
  keySpecOf,
  parseDn,
  pemCertificates,
  subjectOf,
  verifyRaw,
  x509,
} from "./crypto.ts";
import { type ParsedNotarySignature, parseNotaryJws } from "./notary.ts";

export type VerificationLevel = "strict" | "permissive" | "audit" | "skip";
type Check = "integrity" | "authenticity" | "authenticTimestamp" | "expiry" | "revocation";
type Action = "enforce" | "log" | "skip";

/** One entry of notation's trustpolicy.oci.json. */
export interface TrustPolicy {
  name: string;
  registryScopes: string[];
  signatureVerification: {
    level: VerificationLevel;
    override?: Partial<Record<Check, Action>>;
    verifyTimestamp?: "always" | "afterCertExpiry";
  };
  trustStores?: string[];
  trustedIdentities?: string[];
}

export interface TrustPolicyDocument {
  version: string;
  trustPolicies: TrustPolicy[];
}

const LEVELS: Record<VerificationLevel, Record<Check, Action>> = {
  strict: {
    integrity: "enforce",
    authenticity: "enforce",
    authenticTimestamp: "enforce",
    expiry: "enforce",
    revocation: "enforce",
  },
  permissive: {
    integrity: "enforce",
    authenticity: "enforce",
    authenticTimestamp: "log",
    expiry: "log",
    revocation: "log",
  },
  audit: {
    integrity: "enforce",
    authenticity: "log",
    authenticTimestamp: "log",
    expiry: "log",
    revocation: "log",
  },
  skip: {
    integrity: "skip",
    authenticity: "skip",
    authenticTimestamp: "skip",
    expiry: "skip",
    revocation: "skip",
  },
};

function policyError(file: string, what: string): PlatformError {
  return new PlatformError("TRUST_POLICY_INVALID", `${file}: ${what}`, {
    input: "trust-policy",
    file,
    hint: 'Follow notation\'s trustpolicy.oci.json: {"version":"1.0","trustPolicies":[{"name","registryScopes","signatureVerification":{"level"},"trustStores":["ca:<name>"],"trustedIdentities":["x509.subject: …"]}]}.',
  });
}

/** Parses and checks a trust policy document the way notation does; errors name the file and the policy. */
export function parseTrustPolicy(
  text: string,
  file = "trustpolicy.json",
  _opts: CheckSwitches = {},
): TrustPolicyDocument {
  let doc: TrustPolicyDocument;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw policyError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (doc?.version !== "1.0")
    throw policyError(file, `version must be "1.0", not ${JSON.stringify(doc?.version)}`);
  if (!Array.isArray(doc.trustPolicies) || doc.trustPolicies.length === 0) {
    throw policyError(file, "trustPolicies must list at least one policy");
  }
  const names = new Set<string>();
  const scopes = new Set<string>();
  for (const p of doc.trustPolicies) {
    if (!p.name) throw policyError(file, "every trust policy needs a name");
    if (names.has(p.name)) throw policyError(file, `policy name "${p.name}" is used twice`);
    names.add(p.name);
    if (!Array.isArray(p.registryScopes) || p.registryScopes.length === 0) {
      throw policyError(file, `policy "${p.name}" has no registryScopes`);
    }
    for (const s of p.registryScopes) {
      if (s === "*" && p.registryScopes.length > 1) {
        throw policyError(file, `policy "${p.name}": "*" cannot be combined with other registry scopes`);
      }
      if (scopes.has(s)) throw policyError(file, `registry scope "${s}" appears in more than one policy`);
      scopes.add(s);
    }
    const level = p.signatureVerification?.level;
    if (!level || !(level in LEVELS)) {
      throw policyError(file, `policy "${p.name}": level must be strict, permissive, audit or skip`);
    }
    if (level !== "skip") {
      if (!p.trustStores?.length)
        throw policyError(file, `policy "${p.name}" needs trustStores (e.g. "ca:acme")`);
      if (!p.trustedIdentities?.length) throw policyError(file, `policy "${p.name}" needs trustedIdentities`);
      for (const ts of p.trustStores) {
        if (!/^(ca|signingAuthority|tsa):[A-Za-z0-9_.-]+$/.test(ts)) {
          throw policyError(
            file,
            `policy "${p.name}": trust store "${ts}" is not <ca|signingAuthority|tsa>:<name>`,
          );
        }
      }
      for (const id of p.trustedIdentities) {
        if (id !== "*" && !/^x509\.subject:\s*\S/.test(id)) {
          throw policyError(
            file,
            `policy "${p.name}": trusted identity "${id}" is not "*" or "x509.subject: …"`,
          );
        }
        if (id !== "*") {
          // notation's rule: an identity must pin at least the country, state and organization.
          const keys = new Set(parseDn(id.replace(/^x509\.subject:\s*/, "")).map(([k]) => k));
          const missing = ["C", "ST", "O"].filter((k) => !keys.has(k) && !(k === "ST" && keys.has("S")));
          if (missing.length) {
            throw policyError(
              file,
              `policy "${p.name}": trusted identity "${id}" lacks ${missing.join(", ")} (C, ST and O are required)`,
            );
          }
        }
      }
    }
  }
  return doc;
}

/** The policy whose registryScopes name `repository` (host/path), else the "*" policy. */
export function selectPolicy(doc: TrustPolicyDocument, repository: string): TrustPolicy | undefined {
  return (
    doc.trustPolicies.find((p) => p.registryScopes.includes(repository)) ??
    doc.trustPolicies.find((p) => p.registryScopes.includes("*"))
  );
}

/** Named certificate stores, keyed "ca:acme", from notation's trust-store/x509/<type>/<name>/ layout. */
export type TrustStore = Map<string, X509Certificate[]>;

/** Loads a trust store directory: either notation's `trust-store` (holding x509/) or the x509 folder itself. */
export async function loadTrustStore(dir: string): Promise<TrustStore> {
  const base = (await isDir(join(dir, "x509"))) ? join(dir, "x509") : dir;
  const store: TrustStore = new Map();
  for (const type of ["ca", "signingAuthority", "tsa"]) {
    const typeDir = join(base, type);
    if (!(await isDir(typeDir))) continue;
    for (const name of await readdir(typeDir)) {
      const named = join(typeDir, name);
      if (!(await isDir(named))) continue;
      const certs: X509Certificate[] = [];
      for (const file of (await readdir(named)).sort()) {
        if (!/\.(pem|crt|cer)$/i.test(file)) continue;
        const raw = await readFile(join(named, file));
        const text = raw.toString("latin1");
        const ders = text.includes("-----BEGIN CERTIFICATE-----") ? pemCertificates(text) : [raw];
        for (const der of ders) certs.push(x509(der));
      }
      store.set(`${type}:${name}`, certs);
    }
  }
  if (store.size === 0) {
    throw new PlatformError(
      "TRUST_STORE_EMPTY",
      `${dir} holds no certificates in x509/<ca|signingAuthority|tsa>/<name>/`,
      {
        input: "trust-store",
        file: dir,
        hint: "Lay the store out like notation's: trust-store/x509/ca/<name>/root.pem.",
      },
    );
  }
  return store;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** The outcome of verifying one Notary Project signature against a policy. */
export interface NotaryVerdict {
  ok: boolean;
  /** Why it was rejected (first enforced failure). */
  reason?: string;
  /** Failures that the policy only logs. */
  warnings: string[];
  signer?: string;
  policy?: string;
}

/**
 * Verifies a JWS envelope for `digest` under notation's rules: integrity (signature by the leaf, alg
 * matches key, target digest), authenticity (chain to a trust-store CA, trusted identity), expiry and
 * certificate validity at `now`. Revocation is not checked (no network); policies enforcing it are
 * reported in warnings.
 */
export function verifyNotarySignature(
  envelope: Uint8Array,
  digest: string,
  policy: TrustPolicy,
  store: TrustStore,
  now = new Date(),
  _opts: CheckSwitches = {},
): NotaryVerdict {
  const actions = { ...LEVELS[policy.signatureVerification.level], ...policy.signatureVerification.override };
  const warnings: string[] = [];
  const base = { policy: policy.name, warnings };
  if (policy.signatureVerification.level === "skip") return { ok: true, ...base };
  // Each check either rejects (enforce), is noted (log) or ignored (skip).
  const fail = (check: Check, reason: string): NotaryVerdict | undefined => {
    if (actions[check] === "enforce") return { ok: false, reason, ...base };
    if (actions[check] === "log") warnings.push(reason);
    return undefined;
  };

  let sig: ParsedNotarySignature;
  try {
    sig = parseNotaryJws(envelope);
  } catch (err) {
    return { ok: false, reason: `tampered payload: ${(err as Error).message}`, ...base };
  }
  const leaf = x509(sig.certificates[0]!);
  const signer = subjectOf(leaf);
  const withSigner = (v: NotaryVerdict | undefined) => (v ? { ...v, signer } : undefined);

  // Integrity.
  if (sig.unknownCritical.length) {
    const r = withSigner(
      fail("integrity", `unsupported critical header(s) ${sig.unknownCritical.join(", ")}`),
    );
    if (r) return r;
  }
  try {
    assertAlgMatchesKey(sig.alg, keySpecOf(leaf.publicKey), "signature");
  } catch (err) {
    const r = withSigner(fail("integrity", `tampered payload: ${(err as Error).message}`));
    if (r) return r;
  }
  if (!verifyRaw(sig.alg, leaf.publicKey, sig.signingInput, sig.signature)) {
    const r = withSigner(
      fail(
        "integrity",
        "tampered payload: the signature does not match the signed content and the leaf certificate's key",
      ),
    );
    if (r) return r;
  }
  if (sig.target.digest !== digest) {
    const r = withSigner(
      fail("integrity", `digest mismatch: the signature is for ${sig.target.digest}, not ${digest}`),
    );
    if (r) return r;
  }

  // Authenticity: the chain links up and ends at a CA of the policy's trust stores.
  const chain = sig.certificates.map((c) => x509(c));
  const anchors = (policy.trustStores ?? []).flatMap((name) => store.get(name) ?? []);
  let chainOk = true;
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) chainOk = false;
  }
  const anchored = chain.some((c) => anchors.some((a) => a.raw.equals(c.raw)));
  const last = chain[chain.length - 1]!;
  const issuedByAnchor = anchors.some((a) => last.checkIssued(a) && last.verify(a.publicKey));
  if (!chainOk || !(anchored || issuedByAnchor)) {
    const stores = (policy.trustStores ?? []).join(", ");
    const r = withSigner(
      fail(
        "authenticity",
        `untrusted identity: the certificate chain of "${signer}" does not lead to a CA in trust store(s) ${stores || "(none)"}`,
      ),
    );
    if (r) return r;
  } else if (!identityTrusted(policy.trustedIdentities ?? [], leaf)) {
    const r = withSigner(
      fail(
        "authenticity",
        `untrusted identity: "${signer}" is not among the policy's trustedIdentities (${(policy.trustedIdentities ?? []).join("; ")})`,
      ),
    );
    if (r) return r;
  }

  // Expiry of the signature itself, then certificate validity at verification time.
  if (sig.expiry && sig.expiry.getTime() < now.getTime()) {
    const r = withSigner(fail("expiry", `expired signature: it expired at ${sig.expiry.toISOString()}`));
    if (r) return r;
  }
  for (const cert of chain) {
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    if (now < from || now > to) {
      const r = withSigner(
        fail(
          "authenticTimestamp",
          `expired certificate: "${subjectOf(cert)}" is valid ${from.toISOString()} – ${to.toISOString()}, not at ${now.toISOString()}`,
        ),
      );
      if (r) return r;
    }
  }
  if (actions.revocation === "enforce")
    warnings.push("revocation not checked (offline); set override revocation: skip");
  return { ok: true, signer, ...base };
}

/** notation's identity match: the trusted DN's attributes are a subset of the leaf subject's. */
function identityTrusted(identities: string[], leaf: X509Certificate): boolean {
  if (identities.includes("*")) return true;
  const subject = parseDn(leaf.subject);
  return identities.some((id) => {
    const wanted = parseDn(id.replace(/^x509\.subject:\s*/, ""));
    return wanted.length > 0 && wanted.every(([k, v]) => subject.some(([sk, sv]) => sk === k && sv === v));
  });
}
