import { readFileSync } from "node:fs";
import { type Logger, PlatformError } from "@platform/core";
import { githubProvenance, SLSA_PROVENANCE_V1 } from "./attest.ts";
import { dsseBundle, inTotoStatement } from "./cosign.ts";
import { keylessSigning } from "./keyless.ts";

/**
 * Which sigstore instance signs a GitHub artifact attestation, as actions/attest decides: the public-good
 * instance (Fulcio + Rekor) for public repositories, GitHub's own (Fulcio + a timestamp authority, no public
 * log) for private and internal ones.
 */
export type AttestationSigstore = "public-good" | "github";

const ENDPOINTS: Record<AttestationSigstore, { fulcioUrl: string; rekorUrl: string; tsaUrl?: string }> = {
  "public-good": { fulcioUrl: "https://fulcio.sigstore.dev", rekorUrl: "https://rekor.sigstore.dev" },
  github: {
    fulcioUrl: "https://fulcio.githubapp.com",
    rekorUrl: "none",
    tsaUrl: "https://timestamp.githubapp.com",
  },
};

/**
 * The instance for this run: the event payload's `repository.visibility`. Anything but an explicit "public"
 * (no event file, an unreadable one, private, internal) is GitHub's instance: a private repository's name and
 * workflow must never reach the public transparency log by mistake.
 */
export function attestationSigstore(env: NodeJS.ProcessEnv): AttestationSigstore {
  try {
    const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH ?? "", "utf8")) as {
      repository?: { visibility?: string };
    };
    return event.repository?.visibility === "public" ? "public-good" : "github";
  } catch {
    return "github";
  }
}

/** Stores a sigstore bundle as an attestation of the repository (POST /repos/{owner}/{repo}/attestations); returns its id. */
export type AttestationUpload = (bundle: Record<string, unknown>) => Promise<number>;

export interface GitHubAttestationRequest {
  /** The subject: the image's repository (registry/repository) and its manifest digest. */
  name: string;
  digest: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  upload: AttestationUpload;
  now?: Date;
}

export interface GitHubAttestation {
  id: number;
  /** The attestation's page: <server>/<owner>/<repo>/attestations/<id>. */
  url: string;
  sigstore: AttestationSigstore;
  /** The sigstore bundle as stored (JSON), for `gh attestation verify --bundle`. */
  bundle: Buffer;
}

/**
 * SLSA build provenance as a GitHub artifact attestation (the actions/attest-build-provenance convention):
 * the in-toto statement about the image digest is signed keyless with the job's OIDC identity — whatever key
 * signs the OCI referrers, since `gh attestation verify` checks the workflow identity in a Fulcio
 * certificate — and stored with the repository's attestations, beside the OCI referrer.
 */
export async function createGitHubAttestation(req: GitHubAttestationRequest): Promise<GitHubAttestation> {
  const { env, log } = req;
  const repository = env.GITHUB_REPOSITORY;
  if (!repository || !env.ACTIONS_ID_TOKEN_REQUEST_URL)
    throw new PlatformError(
      "ATTESTATION_NOT_IN_ACTIONS",
      "A GitHub artifact attestation needs a GitHub Actions job with an OIDC token",
      {
        input: "github-attestation",
        category: "environment",
        hint: "Run in GitHub Actions with `permissions: { id-token: write, attestations: write }`, or set github-attestation: false.",
      },
    );
  const sigstore = attestationSigstore(env);
  const endpoints = ENDPOINTS[sigstore];
  // SIGSTORE_* select another instance for every keyless signature (a private sigstore, the tests' fakes).
  const keyless = await keylessSigning({
    env,
    log,
    fulcioUrl: env.SIGSTORE_FULCIO_URL ?? endpoints.fulcioUrl,
    rekorUrl: env.SIGSTORE_REKOR_URL ?? endpoints.rekorUrl,
    tsaUrl: env.SIGSTORE_TSA_URL ?? endpoints.tsaUrl,
  });
  const statement = inTotoStatement(
    req.digest,
    SLSA_PROVENANCE_V1,
    githubProvenance(env, { finishedOn: req.now ?? new Date() }),
    req.name,
  );
  const bundle = await dsseBundle(keyless.sigstore, statement, keyless.witnesses);
  let id: number;
  try {
    id = await req.upload(JSON.parse(bundle.toString("utf8")) as Record<string, unknown>);
  } catch (err) {
    const status = (err as { status?: number }).status;
    throw new PlatformError(
      "ATTESTATION_UPLOAD_FAILED",
      `GitHub refused the artifact attestation for ${req.name}@${req.digest}${status ? ` (HTTP ${status})` : ""}`,
      {
        input: "github-attestation",
        category: "environment",
        hint:
          status === 403 || status === 404
            ? "Give the job `permissions: { attestations: write }` (private repositories need GitHub Enterprise Cloud)."
            : "Retry the job; the signatures and OCI referrers are already in place.",
        cause: err,
      },
    );
  }
  const server = env.GITHUB_SERVER_URL ?? "https://github.com";
  const url = `${server}/${repository}/attestations/${id}`;
  log.info(`GitHub artifact attestation ${id} (${sigstore} sigstore): ${url}`);
  return { id, url, sigstore, bundle };
}
