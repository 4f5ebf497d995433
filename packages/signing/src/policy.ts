// notation's trustpolicy.oci.json, validated at load with notation-go v1.3.2's rules
// (verifier/trustpolicy: Document.Validate, GetVerificationLevel, validateTrustStore,
// validateTrustedIdentities, validateRegistryScopeFormat), so a policy notation refuses is refused here.
import { PlatformError } from "@platform/core";
import { parseReference } from "@platform/oci";
import { z } from "zod";
import { type CheckSwitches, checkOn } from "./checks.ts";
import { DnError, type DnMap, isSubsetDn, notationDn } from "./dn.ts";

export type VerificationLevel = "strict" | "permissive" | "audit" | "skip";
export type Check = "integrity" | "authenticity" | "authenticTimestamp" | "expiry" | "revocation";
export type Action = "enforce" | "log" | "skip";

const CHECKS = ["integrity", "authenticity", "authenticTimestamp", "expiry", "revocation"] as const;
const ACTIONS = ["enforce", "log", "skip"] as const;

/** One entry of notation's trustpolicy.oci.json. */
export interface TrustPolicy {
  name: string;
  /** As written, except that with scope normalisation each is `registry/repository` (host lower-cased, docker.io's library/). */
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

export const LEVELS: Record<VerificationLevel, Record<Check, Action>> = {
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

/** What each check does under a policy: the level's preset with the overrides applied. */
export function actionsOf(policy: TrustPolicy): Record<Check, Action> {
  return { ...LEVELS[policy.signatureVerification.level], ...policy.signatureVerification.override };
}

// notation-go's registry scope grammar (adapted there from distribution's regexp.go).
const DOMAIN =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?$/;
const REPOSITORY =
  /^[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?(?:(?:\/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?$/;
const STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

/** An enum whose error names the value given (notation's messages do). */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => `${JSON.stringify(issue.input)} is not one of ${values.join(", ")}`,
  });
}

const scopeSchema = z.string().superRefine((scope, ctx) => {
  if (scope === "*") return;
  const slash = scope.indexOf("/");
  const domain = scope.slice(0, slash);
  const repository = scope.slice(slash + 1);
  if (scope.includes("*") || slash < 0 || !DOMAIN.test(domain) || !REPOSITORY.test(repository)) {
    ctx.addIssue({
      code: "custom",
      message: `registry scope "${scope}" is not valid: write a fully qualified repository without scheme, tag or wildcard, e.g. myacr.azurecr.io/team/app`,
    });
  }
});

const storeSchema = z.string().superRefine((store, ctx) => {
  const colon = store.indexOf(":");
  const type = store.slice(0, colon);
  const name = store.slice(colon + 1);
  if (colon < 0 || !["ca", "signingAuthority", "tsa"].includes(type) || !STORE_NAME.test(name)) {
    ctx.addIssue({
      code: "custom",
      message: `trust store "${store}" is not <ca|signingAuthority|tsa>:<name> with a name of [a-zA-Z0-9_.-]+`,
    });
  }
});

const identitySchema = z.string().superRefine((id, ctx) => {
  if (id === "*") return;
  const colon = id.indexOf(":");
  const prefix = id.slice(0, colon);
  const value = id.slice(colon + 1);
  if (colon < 0 || prefix !== "x509.subject" || value === "") {
    ctx.addIssue({
      code: "custom",
      message: `trusted identity "${id}" is not "*" or "x509.subject: <DN>"`,
    });
    return;
  }
  try {
    notationDn(value);
  } catch (err) {
    if (!(err instanceof DnError)) throw err;
    ctx.addIssue({ code: "custom", message: `trusted identity "${id}": ${err.message}` });
  }
});

const policySchema = z
  .strictObject({
    name: z.string().min(1, "every trust policy needs a name"),
    registryScopes: z.array(scopeSchema).min(1, "registryScopes must list at least one scope"),
    signatureVerification: z.strictObject({
      level: oneOf(["strict", "permissive", "audit", "skip"]),
      override: z.partialRecord(oneOf(CHECKS), oneOf(ACTIONS)).optional(),
      verifyTimestamp: oneOf(["always", "afterCertExpiry"]).optional(),
    }),
    trustStores: z.array(storeSchema).optional(),
    trustedIdentities: z.array(identitySchema).optional(),
  })
  .superRefine((p, ctx) => {
    const sv = p.signatureVerification;
    const override = Object.entries(sv.override ?? {}) as Array<[Check, Action]>;
    if (sv.level === "skip" && override.length) {
      ctx.addIssue({
        code: "custom",
        path: ["signatureVerification", "override"],
        message: 'level "skip" cannot be customised with override',
      });
    }
    for (const [check, action] of override) {
      if (check === "integrity") {
        ctx.addIssue({
          code: "custom",
          path: ["signatureVerification", "override", check],
          message: '"integrity" verification cannot be overridden',
        });
      } else if (check !== "revocation" && action === "skip") {
        ctx.addIssue({
          code: "custom",
          path: ["signatureVerification", "override", check],
          message: `"${check}" verification cannot be skipped (only revocation can)`,
        });
      }
    }
    const stores = p.trustStores ?? [];
    const ids = p.trustedIdentities ?? [];
    if (sv.level === "skip") {
      if (stores.length || ids.length) {
        ctx.addIssue({
          code: "custom",
          path: [stores.length ? "trustStores" : "trustedIdentities"],
          message: 'level "skip" must not list trust stores or trusted identities',
        });
      }
      return;
    }
    if (!stores.length)
      ctx.addIssue({ code: "custom", path: ["trustStores"], message: 'needs trust stores (e.g. "ca:acme")' });
    if (!ids.length)
      ctx.addIssue({ code: "custom", path: ["trustedIdentities"], message: "needs trusted identities" });
    if (ids.length > 1 && ids.includes("*")) {
      ctx.addIssue({
        code: "custom",
        path: ["trustedIdentities"],
        message: '"*" cannot be combined with other identities',
      });
    }
    const dns: Array<[string, DnMap]> = [];
    for (const id of ids) {
      if (id === "*" || !id.startsWith("x509.subject:")) continue;
      try {
        dns.push([id, notationDn(id.slice("x509.subject:".length))]);
      } catch {
        // reported by identitySchema
      }
    }
    for (const [i, [a, da]] of dns.entries()) {
      for (const [j, [b, db]] of dns.entries()) {
        if (i !== j && isSubsetDn(da, db)) {
          ctx.addIssue({
            code: "custom",
            path: ["trustedIdentities"],
            message: `"${a}" overlaps with "${b}"`,
          });
          return;
        }
      }
    }
  });

const documentSchema = z.strictObject({
  version: z.literal("1.0", { error: 'version must be "1.0"' }),
  trustPolicies: z.array(policySchema).min(1, "trustPolicies must list at least one policy"),
});

function policyError(file: string, what: string): PlatformError {
  return new PlatformError("TRUST_POLICY_INVALID", `${file}: ${what}`, {
    input: "trust-policy",
    file,
    hint: 'Follow notation\'s trustpolicy.oci.json: {"version":"1.0","trustPolicies":[{"name","registryScopes","signatureVerification":{"level":"strict|permissive|audit|skip","override":{"revocation":"enforce|log|skip"}},"trustStores":["ca:<name>"],"trustedIdentities":["x509.subject: C=…, ST=…, O=…"]}]}.',
  });
}

/** Where a zod issue sits, in words: `policy "prod" (trustPolicies[0]) signatureVerification.override.expiry`. */
function issuePlace(raw: unknown, path: PropertyKey[]): string {
  if (path[0] !== "trustPolicies" || typeof path[1] !== "number") return path.join(".") || "the document";
  const name = (raw as { trustPolicies?: Array<{ name?: unknown }> }).trustPolicies?.[path[1]]?.name;
  const field = path
    .slice(2)
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
  return `policy ${typeof name === "string" && name ? `"${name}"` : "(unnamed)"} (trustPolicies[${path[1]}])${field ? ` ${field}` : ""}`;
}

/**
 * Parses and validates a trust policy document with notation's rules; errors name the file, the policy and
 * the field. Registry scopes are normalised (reference grammar: host lower-cased, docker.io/library/).
 */
export function parseTrustPolicy(
  text: string,
  file = "trustpolicy.json",
  opts: CheckSwitches = {},
): TrustPolicyDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw policyError(file, `not valid JSON (${(err as Error).message})`);
  }
  let doc: TrustPolicyDocument;
  if (checkOn(opts, "policy.schema")) {
    const parsed = documentSchema.safeParse(raw);
    if (!parsed.success) {
      throw policyError(
        file,
        parsed.error.issues.map((i) => `${issuePlace(raw, i.path)}: ${i.message}`).join("; "),
      );
    }
    doc = parsed.data as TrustPolicyDocument;
  } else {
    doc = raw as TrustPolicyDocument;
    if (!Array.isArray(doc?.trustPolicies)) throw policyError(file, "trustPolicies must be a list");
  }
  const names = new Set<string>();
  for (const p of doc.trustPolicies) {
    if (names.has(p.name))
      throw policyError(file, `policy name "${p.name}" is used twice; names must be unique`);
    names.add(p.name);
  }
  // One policy per scope: notation compares scopes as written; normalised forms must not collide either.
  const owner = new Map<string, string>();
  for (const p of doc.trustPolicies) {
    if (p.registryScopes.length > 1 && p.registryScopes.includes("*")) {
      throw policyError(file, `policy "${p.name}" registryScopes: "*" cannot be combined with other scopes`);
    }
    p.registryScopes = p.registryScopes.map((s) => {
      const scope = checkOn(opts, "scope.normalise") ? normaliseScope(s, file, p.name) : s;
      const prior = owner.get(scope);
      if (prior !== undefined) {
        throw policyError(
          file,
          `registry scope "${s}" is in policies "${prior}" and "${p.name}"; a scope may belong to one policy only`,
        );
      }
      owner.set(scope, p.name);
      return scope;
    });
  }
  return doc;
}

/** A scope as `registry/repository` by the reference grammar, so `MyACR.azurecr.io/app` names myacr.azurecr.io/app. */
function normaliseScope(scope: string, file: string, policy: string): string {
  if (scope === "*") return scope;
  try {
    const ref = parseReference(scope);
    if (ref.tag || ref.digest) throw new Error("has a tag or digest");
    return `${ref.registry}/${ref.repository}`;
  } catch {
    throw policyError(file, `policy "${policy}" registryScopes: "${scope}" is not a repository reference`);
  }
}

/** The policy whose registryScopes name `repository` (host/path, as parseReference gives it), else the "*" policy. */
export function selectPolicy(doc: TrustPolicyDocument, repository: string): TrustPolicy | undefined {
  return (
    doc.trustPolicies.find((p) => p.registryScopes.includes(repository)) ??
    doc.trustPolicies.find((p) => p.registryScopes.includes("*"))
  );
}
