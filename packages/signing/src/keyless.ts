import { requestGitHubOidcToken } from "@platform/azure";
import { jwtClaims, type Logger, PlatformError } from "@platform/core";
// Types only: @sigstore/sign is imported where keyless signing starts (it is large; verify never needs it).
import type { Signer as SigstoreSigner, Witness } from "@sigstore/sign";
import { loadSigstoreSign } from "./cosign.ts";

/** Keyless signing: an ephemeral key certified by Fulcio for the job's GitHub OIDC identity, logged in Rekor. */
export interface KeylessSigning {
  kind: "keyless";
  /** For summaries: keyless via <fulcio>. */
  id: string;
  /** The certificate identity: the workflow (job_workflow_ref) or the token subject. */
  identity: string;
  issuer: string;
  sigstore: SigstoreSigner;
  witnesses: Witness[];
}

export function isKeyless(s: unknown): s is KeylessSigning {
  return (s as { kind?: string })?.kind === "keyless";
}

export interface KeylessOptions {
  env: NodeJS.ProcessEnv;
  log?: Logger;
  /**
   * Fulcio and Rekor of a private sigstore instance; default SIGSTORE_FULCIO_URL / SIGSTORE_REKOR_URL,
   * else the public good instance. Rekor "none" logs nothing (then give a timestamp authority).
   */
  fulcioUrl?: string;
  rekorUrl?: string;
  /** An RFC 3161 timestamp authority (SIGSTORE_TSA_URL), as GitHub's own sigstore instance uses. */
  tsaUrl?: string;
}

/**
 * Keyless signing through GitHub OIDC: the job's ID token (audience "sigstore") gets a short-lived
 * Fulcio certificate for an ephemeral key; every signature is logged in Rekor.
 */
export async function keylessSigning(opts: KeylessOptions): Promise<KeylessSigning> {
  const token = await requestGitHubOidcToken("sigstore", { env: opts.env, log: opts.log });
  const claims = jwtClaims(token);
  if (!claims) {
    throw new PlatformError("SIGN_KEYLESS_TOKEN", "The GitHub OIDC token is not a JWT", {
      category: "environment",
    });
  }
  const { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, FulcioSigner, RekorWitness, TSAWitness } =
    await loadSigstoreSign();
  const fulcioBaseURL = opts.fulcioUrl ?? opts.env.SIGSTORE_FULCIO_URL ?? DEFAULT_FULCIO_URL;
  const rekorBaseURL = opts.rekorUrl ?? opts.env.SIGSTORE_REKOR_URL ?? DEFAULT_REKOR_URL;
  const tsaBaseURL = opts.tsaUrl ?? opts.env.SIGSTORE_TSA_URL;
  const witnesses: Witness[] = [];
  if (rekorBaseURL !== "none") witnesses.push(new RekorWitness({ rekorBaseURL }));
  if (tsaBaseURL) witnesses.push(new TSAWitness({ tsaBaseURL }));
  if (witnesses.length === 0) {
    throw new PlatformError(
      "SIGN_KEYLESS_NO_WITNESS",
      "Keyless signatures need a transparency log or a timestamp authority",
      {
        category: "usage",
        hint: "Leave SIGSTORE_REKOR_URL unset (public Rekor) or set SIGSTORE_TSA_URL: a short-lived certificate is only verifiable with a trusted time.",
      },
    );
  }
  const identity = String(claims.job_workflow_ref ?? claims.sub ?? "unknown");
  return {
    kind: "keyless",
    id: `keyless (${fulcioBaseURL})`,
    identity,
    issuer: String(claims.iss ?? ""),
    sigstore: new FulcioSigner({ fulcioBaseURL, identityProvider: { getToken: async () => token } }),
    witnesses,
  };
}
