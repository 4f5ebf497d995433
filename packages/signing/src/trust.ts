import type { X509Certificate } from "node:crypto";
import { lstat, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError } from "@platform/core";
import { type ChainCert, chainProblem, parseChain } from "./chain.ts";
import { type CheckSwitches, checkOn } from "./checks.ts";
import {
  keySpecOf,
  type NotaryAlg,
  notaryAlgFor,
  pemCertificates,
  type SignatureAlg,
  verifyRaw,
  x509,
} from "./crypto.ts";
import { certSubjectDn, certSubjectRdns, DnError, formatRdns, isSubsetDn, notationDn } from "./dn.ts";
import { type Descriptor, type ParsedNotarySignature, parseNotaryJws } from "./notary.ts";
import { type Action, actionsOf, type Check, type TrustPolicy } from "./policy.ts";

export {
  parseTrustPolicy,
  selectPolicy,
  type TrustPolicy,
  type TrustPolicyDocument,
  type VerificationLevel,
} from "./policy.ts";

/** Named certificate stores, keyed "ca:acme", from notation's trust-store/x509/<type>/<name>/ layout. */
export type TrustStore = Map<string, X509Certificate[]>;

/**
 * Loads a trust store directory: either notation's `trust-store` (holding x509/) or the x509 folder itself.
 * As notation does, every file of a named store must hold certificates (PEM or DER), no subfolders or
 * symlinks, each certificate a CA or self-signed, and `tsa` stores root CAs only.
 */
export async function loadTrustStore(dir: string): Promise<TrustStore> {
  const base = (await isDir(join(dir, "x509"))) ? join(dir, "x509") : dir;
  const store: TrustStore = new Map();
  const bad = (file: string, what: string) =>
    new PlatformError("TRUST_STORE_INVALID", `${file}: ${what}`, {
      input: "trust-store",
      file,
      hint: "A named store holds only certificate files (PEM or DER) of CAs (or self-signed signing certificates); tsa stores hold root CAs.",
    });
  for (const type of ["ca", "signingAuthority", "tsa"]) {
    const typeDir = join(base, type);
    if (!(await isDir(typeDir))) continue;
    for (const name of await readdir(typeDir)) {
      const named = join(typeDir, name);
      if (!(await isDir(named))) continue;
      const certs: X509Certificate[] = [];
      for (const file of (await readdir(named)).sort()) {
        const path = join(named, file);
        const info = await lstat(path);
        if (!info.isFile())
          throw bad(path, "not a regular file (folders and symlinks are not allowed in a named store)");
        const raw = await readFile(path);
        const text = raw.toString("latin1");
        let parsed: X509Certificate[];
        try {
          parsed = (text.includes("-----BEGIN") ? pemCertificates(text) : [raw]).map((der) => x509(der));
        } catch {
          throw bad(path, "does not hold X.509 certificates");
        }
        if (parsed.length === 0) throw bad(path, "holds no certificate");
        for (const cert of parsed) {
          const selfSigned = cert.verify(cert.publicKey);
          if (!cert.ca && !selfSigned)
            throw bad(path, `"${cert.subject.replace(/\n/g, ", ")}" is neither a CA nor self-signed`);
          if (type === "tsa" && !(selfSigned && cert.issuer === cert.subject)) {
            throw bad(
              path,
              `"${cert.subject.replace(/\n/g, ", ")}" is not a root CA (tsa stores hold root CAs only)`,
            );
          }
        }
        certs.push(...parsed);
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
  /** What the failure was, for the report: a VERIFY_CHECKS name or a notation check. */
  code?: string;
  /** Failures that the policy only logs. */
  warnings: string[];
  signer?: string;
  /** Whether the signer's chain and identity were trusted (false under audit when only logged). */
  trusted?: boolean;
  policy?: string;
}

const NOTARY_ALGS: readonly string[] = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

/**
 * Verifies a JWS envelope for the image `target` (media type, digest and size) under notation v1.3.2's rules,
 * in its order: integrity (envelope, signature by the leaf with the algorithm its key dictates, the Notary
 * Project certificate requirements on the x5c chain) is always enforced; then authenticity (a certificate of
 * the chain is in a store of the scheme's type: `ca` for notary.x509, `signingAuthority` for
 * notary.x509.signingAuthority; the leaf subject matches a trusted identity), expiry and the authentic
 * timestamp as the policy says; the target descriptor must match. Revocation and RFC 3161 timestamps are not
 * checked: a policy that enforces them fails here with the reason (see verifyImage for the up-front error).
 */
export function verifyNotarySignature(
  envelope: Uint8Array,
  target: Descriptor,
  policy: TrustPolicy,
  store: TrustStore,
  now = new Date(),
  opts: CheckSwitches = {},
): NotaryVerdict {
  const actions = actionsOf(policy);
  const warnings: string[] = [];
  const base = { policy: policy.name, warnings };
  if (policy.signatureVerification.level === "skip") return { ok: true, ...base };
  let signer: string | undefined;
  let trusted = true;
  const reject = (code: string, reason: string): NotaryVerdict => ({
    ok: false,
    code,
    reason,
    signer,
    ...base,
  });
  // Each policy-governed check either rejects (enforce), is noted (log) or ignored (skip); an action the
  // schema did not vouch for (mutation testing) behaves as notation's zero value would not: it is ignored.
  const fail = (check: Check, code: string, reason: string): NotaryVerdict | undefined => {
    const action: Action | undefined = actions[check];
    if (check === "authenticity") trusted = false;
    if (action === "enforce") return reject(code, reason);
    if (action === "log") warnings.push(reason);
    return undefined;
  };

  // Integrity: always enforced (notation cannot override it).
  let sig: ParsedNotarySignature;
  let chain: ChainCert[];
  try {
    sig = parseNotaryJws(envelope);
    chain = parseChain(sig.certificates);
  } catch (err) {
    return reject("NOTARY_ENVELOPE_INVALID", `malformed signature: ${(err as Error).message}`);
  }
  const leaf = chain[0]!;
  signer = formatRdns(certSubjectRdns(leaf.der));
  let expected: NotaryAlg | undefined;
  try {
    expected = notaryAlgFor(keySpecOf(leaf.node.publicKey));
  } catch (err) {
    return reject("alg.allowed", `unsupported signing key: ${(err as Error).message}`);
  }
  if (checkOn(opts, "alg.allowed")) {
    if (!NOTARY_ALGS.includes(sig.alg)) {
      return reject(
        "alg.allowed",
        `algorithm ${sig.alg} is not allowed (the Notary Project allows PS256/384/512 and ES256/384/512)`,
      );
    }
    if (sig.alg !== expected) {
      return reject(
        "alg.allowed",
        `algorithm ${sig.alg} does not match the signing key (${describeKey(leaf)} signs with ${expected})`,
      );
    }
  }
  // With alg.allowed off (mutation testing) any algorithm the key can verify is taken, RS256 included.
  const verifyAlg = [...NOTARY_ALGS, "RS256"].includes(sig.alg) ? (sig.alg as SignatureAlg) : undefined;
  if (!verifyAlg || !verifyRaw(verifyAlg, leaf.node.publicKey, sig.signingInput, sig.signature)) {
    return reject(
      "integrity",
      "tampered payload: the signature does not match the signed content and the leaf certificate's key",
    );
  }
  const problem = chainProblem(chain, opts);
  if (problem) return reject(problem.check, `invalid certificate chain: ${problem.reason}`);
  if (sig.unknownCritical.length) {
    return reject(
      "integrity",
      `unsupported critical header(s) ${sig.unknownCritical.join(", ")} (notation needs a plugin for them)`,
    );
  }

  // Authenticity: trust store of the scheme's role, then the trusted identity.
  const role = checkOn(opts, "store.role")
    ? sig.scheme === "notary.x509"
      ? ["ca"]
      : ["signingAuthority"]
    : ["ca", "signingAuthority", "tsa"];
  const stores = (policy.trustStores ?? []).filter((s) => role.includes(s.slice(0, s.indexOf(":"))));
  const missing = stores.filter((s) => !store.has(s));
  const anchors = stores.flatMap((name) => store.get(name) ?? []);
  let r: NotaryVerdict | undefined;
  if (missing.length || anchors.length === 0) {
    r = fail(
      "authenticity",
      "store.role",
      missing.length
        ? `untrusted signer: trust store(s) ${missing.join(", ")} named by policy "${policy.name}" do not exist`
        : `untrusted signer: policy "${policy.name}" names no ${role.join("/")} trust store for a ${sig.scheme} signature`,
    );
  } else if (!chain.some((c) => anchors.some((a) => a.raw.equals(c.der)))) {
    r = fail(
      "authenticity",
      "authenticity",
      `untrusted signer: no certificate of the chain of "${signer}" is in trust store(s) ${stores.join(", ")}`,
    );
  } else {
    const mismatch = identityMismatch(policy.trustedIdentities ?? [], leaf, opts);
    if (mismatch) r = fail("authenticity", "identity.structuralDn", mismatch);
  }
  if (r) return r;

  // Expiry of the signature itself.
  if (sig.expiry && now.getTime() >= sig.expiry.getTime()) {
    r = fail("expiry", "expiry", `expired signature: it expired at ${sig.expiry.toISOString()}`);
    if (r) return r;
  }

  // Authentic timestamp: without a verified RFC 3161 countersignature every certificate must be valid now
  // (notary.x509), or at the authentic signing time (signingAuthority).
  if (sig.scheme === "notary.x509") {
    const tsaPolicy = (policy.trustStores ?? []).some((s) => s.startsWith("tsa:"));
    const expired = chain.some((c) => now > new Date(c.node.validTo));
    const wantsTimestamp =
      tsaPolicy && (policy.signatureVerification.verifyTimestamp !== "afterCertExpiry" || expired);
    if (wantsTimestamp) {
      r = fail(
        "authenticTimestamp",
        "authenticTimestamp",
        "RFC 3161 timestamp countersignatures are not verified by this tool: remove the tsa: store from the policy, set verifyTimestamp: afterCertExpiry with an unexpired chain, or verify with notation",
      );
    } else {
      r = validityProblem(chain, now, "at verification time", (reason) =>
        fail("authenticTimestamp", "authenticTimestamp", reason),
      );
    }
  } else {
    r = validityProblem(chain, sig.signingTime, "at the authentic signing time", (reason) =>
      fail("authenticTimestamp", "authenticTimestamp", reason),
    );
  }
  if (r) return r;

  // Revocation needs OCSP/CRL over the network; it is never silently passed.
  if (actions.revocation === "enforce") {
    return reject(
      "revocation",
      'revocation is not checked by this tool; set override "revocation": "skip" or "log" in the policy',
    );
  }
  if (actions.revocation === "log") warnings.push("revocation not checked (no OCSP/CRL lookups)");

  // notation compares the whole descriptor after the policy's checks, whatever the level.
  const got = sig.target;
  if (got.digest !== target.digest) {
    return reject("integrity", `digest mismatch: the signature is for ${got.digest}, not ${target.digest}`);
  }
  if (got.mediaType !== target.mediaType || got.size !== target.size) {
    return reject(
      "integrity",
      `descriptor mismatch: the signature names ${got.mediaType} of ${got.size} bytes, the image is ${target.mediaType} of ${target.size} bytes`,
    );
  }
  return { ok: true, signer, trusted, ...base };
}

function describeKey(c: ChainCert): string {
  const spec = keySpecOf(c.node.publicKey);
  return spec.type === "RSA" ? `RSA ${spec.size}` : `EC P-${spec.size}`;
}

function validityProblem(
  chain: ChainCert[],
  at: Date,
  when: string,
  fail: (reason: string) => NotaryVerdict | undefined,
): NotaryVerdict | undefined {
  for (const [i, c] of chain.entries()) {
    const from = new Date(c.node.validFrom);
    const to = new Date(c.node.validTo);
    if (at < from || at > to) {
      const position =
        i === 0 ? "signing certificate" : i === chain.length - 1 ? "root" : `intermediate ${i}`;
      const r = fail(
        `${at < from ? "not yet valid" : "expired"} certificate: the ${position} "${c.subject}" is valid ${from.toISOString()} – ${to.toISOString()}, not ${when} ${at.toISOString()}`,
      );
      if (r) return r;
    }
  }
  return undefined;
}

/** notation's identity match on the leaf subject read from its ASN.1; undefined when trusted. */
function identityMismatch(identities: string[], leaf: ChainCert, opts: CheckSwitches): string | undefined {
  if (identities.includes("*")) return undefined;
  const wanted = identities
    .filter((i) => i.startsWith("x509.subject:"))
    .map((i) => i.slice("x509.subject:".length));
  if (wanted.length === 0) return "untrusted identity: the policy lists no x509.subject identity";
  const subject = formatRdns(certSubjectRdns(leaf.der));
  if (!checkOn(opts, "identity.structuralDn")) {
    // Mutation testing: the old textual match (any attribute of the subject may satisfy a wanted one).
    const have = certSubjectRdns(leaf.der).flat();
    const ok = wanted.some((w) => {
      try {
        return [...notationDn(w)].every(([k, v]) => have.some((a) => a.type === k && a.value === v));
      } catch {
        return false;
      }
    });
    return ok ? undefined : `untrusted identity: "${subject}" is not among the policy's trustedIdentities`;
  }
  let have: Map<string, string>;
  try {
    have = certSubjectDn(leaf.der);
  } catch (err) {
    if (!(err instanceof DnError)) throw err;
    return `untrusted identity: ${err.message} ("${subject}")`;
  }
  for (const w of wanted) {
    try {
      if (isSubsetDn(notationDn(w), have)) return undefined;
    } catch (err) {
      if (!(err instanceof DnError)) throw err;
      return `untrusted identity: trusted identity ${err.message}`;
    }
  }
  return `untrusted identity: "${subject}" is not among the policy's trustedIdentities (${identities.join("; ")})`;
}
