/** Names of the verification checks added for fail-closed verification (issue 14); used by the mutation test. */
export const VERIFY_CHECKS = [
  "policy.schema", // trust policy validated at load (levels, override keys/values, stores, identities, scopes)
  "scope.normalise", // registry scopes parsed/normalised with the reference grammar
  "chain.basicConstraints", // every issuer CA:TRUE
  "chain.pathLength", // pathLenConstraint honoured
  "chain.keyUsage", // leaf digitalSignature, issuers keyCertSign
  "chain.extendedKeyUsage", // leaf EKU must allow codeSigning (Notary Project spec)
  "store.role", // ca: / signingAuthority: / tsa: stores serve only their own role
  "identity.structuralDn", // DN parsed structurally; duplicate & multi-valued RDNs rejected
  "bundle.signedType", // signature vs attestation decided from the signed payload, not annotations
  "alg.allowed", // only notation's algorithms (no RS256 etc.)
] as const;
export type VerifyCheckName = (typeof VERIFY_CHECKS)[number];

/**
 * Checks to skip: mutation testing only (proves each check is load-bearing in the adversarial corpus);
 * not reachable from the action or CLI.
 */
export interface CheckSwitches {
  disabledChecks?: ReadonlySet<VerifyCheckName>;
}

/** Whether `name` runs under `opts` (every check runs unless a mutation test disabled it). */
export function checkOn(opts: CheckSwitches | undefined, name: VerifyCheckName): boolean {
  return !opts?.disabledChecks?.has(name);
}
