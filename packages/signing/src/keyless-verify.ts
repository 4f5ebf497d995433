import { readFile } from "node:fs/promises";
import { PlatformError } from "@platform/core";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import {
  PolicyError,
  type Signer,
  type TrustMaterial,
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
} from "@sigstore/verify";
import type { ParsedBundle } from "./cosign.ts";

/** GitHub Actions' OIDC issuer, the usual `certificate-oidc-issuer`. */
export const GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com";

/**
 * Who may sign keylessly, in cosign's terms: the certificate's SAN (`--certificate-identity`, exact, or
 * `--certificate-identity-regexp`, a search like Go's regexp.MatchString — anchor it with ^…$), the
 * OIDC issuer extension (`--certificate-oidc-issuer`, exact), and the sigstore trusted root
 * (Fulcio CAs, Rekor keys, CT logs, TSAs) the evidence must chain to.
 */
export interface KeylessPolicy {
  identity?: string;
  identityRegexp?: RegExp;
  issuer: string;
  trust: TrustMaterial;
  /** Where the trusted root came from (for messages). */
  rootName: string;
  /**
   * cosign's default: a Rekor entry (inclusion proof/promise by a trusted log) is required. false =
   * cosign's --insecure-ignore-tlog: a trusted RFC 3161 timestamp alone proves the signing time.
   */
  requireTlog: boolean;
}

/** The keyless inputs as the action, the CLI and platform.yaml name them. */
export interface KeylessRequest {
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  trustedRoot?: string;
  requireTlog?: boolean;
}

const ROOT_HINT =
  "Keyless verification needs the sigstore trusted root the signature chains to: for the public sigstore instance, " +
  "the trusted_root.json of sigstore's TUF repository (e.g. `cosign trusted-root create` or the file cached in " +
  "~/.sigstore/root/…/targets/trusted_root.json); for a private instance, `cosign trusted-root create " +
  "--fulcio=… --rekor=… --tsa=…`. Commit it and pass its path as trusted-root.";

/** True when any keyless input is set (then the rest must be complete). */
export function wantsKeyless(req: KeylessRequest): boolean {
  return !!(
    req.certificateIdentity ||
    req.certificateIdentityRegexp ||
    req.certificateOidcIssuer ||
    req.trustedRoot
  );
}

/** Inputs over platform.yaml, field by field; an identity input replaces both identity fields of the file. */
export function mergeKeyless(input: KeylessRequest = {}, config: KeylessRequest = {}): KeylessRequest {
  const idFromInput = !!(input.certificateIdentity || input.certificateIdentityRegexp);
  const id = idFromInput ? input : config;
  return {
    certificateIdentity: id.certificateIdentity || undefined,
    certificateIdentityRegexp: id.certificateIdentityRegexp || undefined,
    certificateOidcIssuer: input.certificateOidcIssuer || config.certificateOidcIssuer,
    trustedRoot: input.trustedRoot || config.trustedRoot,
    requireTlog: input.requireTlog ?? config.requireTlog,
  };
}

/** Checks the keyless inputs and loads the trusted root; `resolve` maps a path to the workspace. */
export async function keylessPolicy(
  req: KeylessRequest,
  resolve: (p: string) => string = (p) => p,
): Promise<KeylessPolicy> {
  if (!req.certificateIdentity === !req.certificateIdentityRegexp) {
    throw new PlatformError(
      "KEYLESS_IDENTITY",
      req.certificateIdentity
        ? "certificate-identity and certificate-identity-regexp exclude each other"
        : "Keyless verification needs the signer's identity",
      {
        input: "certificate-identity",
        hint: "Pass exactly one: certificate-identity (the exact SAN, e.g. https://github.com/org/app/.github/workflows/deliver.yml@refs/heads/main) or certificate-identity-regexp.",
      },
    );
  }
  if (!req.certificateOidcIssuer) {
    throw new PlatformError("KEYLESS_ISSUER", "Keyless verification needs the OIDC issuer", {
      input: "certificate-oidc-issuer",
      hint: `Pass certificate-oidc-issuer, e.g. ${GITHUB_OIDC_ISSUER} for GitHub Actions workflows.`,
    });
  }
  let identityRegexp: RegExp | undefined;
  if (req.certificateIdentityRegexp) {
    try {
      identityRegexp = new RegExp(req.certificateIdentityRegexp);
    } catch (err) {
      throw new PlatformError("KEYLESS_IDENTITY_REGEXP", `certificate-identity-regexp does not compile`, {
        input: "certificate-identity-regexp",
        hint: `Fix the regular expression (${(err as Error).message}).`,
      });
    }
  }
  if (!req.trustedRoot) {
    throw new PlatformError("KEYLESS_NO_TRUSTED_ROOT", "Keyless verification needs a trusted root", {
      input: "trusted-root",
      hint: ROOT_HINT,
    });
  }
  return {
    identity: req.certificateIdentity,
    identityRegexp,
    issuer: req.certificateOidcIssuer,
    trust: await loadTrustedRoot(resolve(req.trustedRoot), req.trustedRoot),
    rootName: req.trustedRoot,
    requireTlog: req.requireTlog ?? true,
  };
}

/** Reads a sigstore trusted_root.json (the protobuf-specs JSON form) into @sigstore/verify's trust material. */
export async function loadTrustedRoot(file: string, name = file): Promise<TrustMaterial> {
  const text = await readFile(file, "utf8").catch((err) => {
    throw new PlatformError("KEYLESS_TRUSTED_ROOT_UNREADABLE", `Cannot read the trusted root ${name}`, {
      input: "trusted-root",
      file: name,
      hint: `Check the path; it is relative to the workspace. ${ROOT_HINT}`,
      cause: err,
    });
  });
  try {
    const json = JSON.parse(text);
    if (!String(json.mediaType ?? "").startsWith("application/vnd.dev.sigstore.trustedroot")) {
      throw new Error(
        `mediaType is ${JSON.stringify(json.mediaType)}, not application/vnd.dev.sigstore.trustedroot+json`,
      );
    }
    const root = TrustedRoot.fromJSON(json);
    if (root.certificateAuthorities.length === 0) throw new Error("it lists no certificate authority");
    return toTrustMaterial(root);
  } catch (err) {
    throw new PlatformError("KEYLESS_TRUSTED_ROOT_INVALID", `${name} is not a sigstore trusted root`, {
      input: "trusted-root",
      file: name,
      hint: `${(err as Error).message}. ${ROOT_HINT}`,
    });
  }
}

export interface KeylessVerdict {
  ok: boolean;
  /** The certificate's SAN (and issuer), once the chain verified. */
  signer?: string;
  reason?: string;
}

/**
 * Verifies a keyless sigstore bundle as cosign does: the Fulcio chain to a CA of the trusted root at a
 * verified time (Rekor integrated time or an RFC 3161 timestamp), an SCT from a trusted CT log, the
 * Rekor entry (inclusion proof/promise, body matching the envelope), the DSSE signature, then the
 * identity and issuer policy and the in-toto subject digest.
 */
export function verifyKeylessBundle(
  parsed: ParsedBundle,
  digest: string,
  policy: KeylessPolicy,
): KeylessVerdict {
  const verifier = new Verifier(policy.trust, {
    tlogThreshold: policy.requireTlog ? 1 : 0,
    ctlogThreshold: 1,
    timestampThreshold: 1,
  });
  let signer: Signer;
  try {
    signer = verifier.verify(toSignedEntity(parsed.bundle));
  } catch (err) {
    return { ok: false, reason: evidenceReason(err, policy) };
  }
  const san = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  const who = `${san ?? "(no SAN)"} (issuer ${issuer ?? "none"})`;
  const identityOk =
    policy.identity !== undefined ? san === policy.identity : !!san && policy.identityRegexp!.test(san);
  if (!identityOk) {
    return {
      ok: false,
      signer: who,
      reason: `identity mismatch: the certificate is for ${san ?? "no SAN"}, not ${policy.identity ?? `matching ${policy.identityRegexp!.source.replaceAll("\\/", "/")}`}`,
    };
  }
  if (issuer !== policy.issuer) {
    return {
      ok: false,
      signer: who,
      reason: `issuer mismatch: the certificate's OIDC issuer is ${issuer ?? "missing"}, not ${policy.issuer}`,
    };
  }
  const mismatch = statementDigestMismatch(parsed.statement, digest);
  if (mismatch) return { ok: false, signer: who, reason: mismatch };
  return { ok: true, signer: san };
}

/** Why an in-toto statement is not about `digest` (undefined when one of its subjects is). */
export function statementDigestMismatch(
  statement: ParsedBundle["statement"],
  digest: string,
): string | undefined {
  const [alg, hex] = digest.split(":");
  if ((statement.subject ?? []).some((s) => s.digest?.[alg!] === hex)) return undefined;
  const claimed = statement.subject?.flatMap((s) =>
    Object.entries(s.digest ?? {}).map(([a, h]) => `${a}:${h}`),
  );
  return `digest mismatch: the statement is about ${claimed?.join(", ") || "nothing"}, not ${digest}`;
}

/** One line for a failed @sigstore/verify check, led by the kind of failure. */
function evidenceReason(err: unknown, policy: KeylessPolicy): string {
  const message = (err as Error).message;
  if (err instanceof VerificationError) {
    switch (err.code) {
      case "CERTIFICATE_ERROR":
        return /SCT/.test(message)
          ? `untrusted certificate: no valid SCT from a CT log of ${policy.rootName} (${message})`
          : `untrusted CA: the certificate does not chain to a Fulcio CA of ${policy.rootName} at the signing time (${message})`;
      case "TIMESTAMP_ERROR":
        return `no tlog/timestamp evidence: no signing time verified by a Rekor log or a TSA of ${policy.rootName} (${message})`;
      case "SIGNATURE_ERROR":
        return `tampered payload: the DSSE signature does not verify with the certificate's key`;
      case "TLOG_ERROR":
        return /expected \d+ tlog entries/.test(message)
          ? `no tlog evidence: the bundle has no Rekor entry (${message}); cosign requires one unless --insecure-ignore-tlog`
          : `transparency log: ${message}`;
      default:
        if (err.code.startsWith("TLOG_"))
          return `transparency log: the Rekor entry does not verify against ${policy.rootName} (${err.code}: ${message})`;
    }
  }
  if (err instanceof PolicyError) return `untrusted signer: ${message}`;
  return `the bundle does not verify: ${message}`;
}
