import { readFile } from "node:fs/promises";
import { PlatformError } from "@platform/core";

export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
export const CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom";
export const SPDX_PREDICATE = "https://spdx.dev/Document";
export const GITHUB_WORKFLOW_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1";

/** An SBOM document read from a file, with the in-toto predicate type its format calls for. */
export interface Sbom {
  format: "cyclonedx" | "spdx";
  predicateType: string;
  document: unknown;
  file: string;
}

/** Reads a CycloneDX or SPDX JSON SBOM; anything else is a usage error naming the input. */
export async function readSbom(path: string): Promise<Sbom> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new PlatformError("SBOM_UNREADABLE", `Cannot read the SBOM ${path}`, {
      input: "sbom",
      file: path,
      hint: "Pass the path of a CycloneDX or SPDX JSON file (e.g. from `trivy image --format cyclonedx`).",
      cause: err,
    });
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch {
    throw sbomFormatError(path, "it is not JSON");
  }
  if (doc && doc.bomFormat === "CycloneDX") {
    return { format: "cyclonedx", predicateType: CYCLONEDX_PREDICATE, document: doc, file: path };
  }
  if (doc && typeof doc.spdxVersion === "string") {
    return { format: "spdx", predicateType: SPDX_PREDICATE, document: doc, file: path };
  }
  throw sbomFormatError(path, "it has neither bomFormat: CycloneDX nor spdxVersion");
}

function sbomFormatError(path: string, why: string): PlatformError {
  return new PlatformError("SBOM_FORMAT", `${path} is not a CycloneDX or SPDX JSON SBOM: ${why}`, {
    input: "sbom",
    file: path,
    hint: "Generate the SBOM as CycloneDX JSON or SPDX JSON (trivy image --format cyclonedx|spdx-json).",
  });
}

/** A SLSA provenance v1 predicate from the GitHub Actions context (GITHUB_* variables). */
export function githubProvenance(
  env: NodeJS.ProcessEnv,
  opts: { startedOn?: Date; finishedOn?: Date; inputs?: Record<string, string> } = {},
): Record<string, unknown> {
  const server = env.GITHUB_SERVER_URL ?? "https://github.com";
  const repo = env.GITHUB_REPOSITORY ?? "unknown/unknown";
  const workflowRef = env.GITHUB_WORKFLOW_REF ?? "";
  // GITHUB_WORKFLOW_REF is "owner/repo/.github/workflows/x.yml@refs/heads/main".
  const at = workflowRef.lastIndexOf("@");
  const path = at > 0 ? workflowRef.slice(repo.length + 1, at) : "";
  const runId = env.GITHUB_RUN_ID ?? "0";
  const attempt = env.GITHUB_RUN_ATTEMPT ?? "1";
  const sha = env.GITHUB_SHA ?? "";
  return {
    buildDefinition: {
      buildType: GITHUB_WORKFLOW_BUILD_TYPE,
      externalParameters: {
        workflow: { ref: env.GITHUB_REF ?? "", repository: `${server}/${repo}`, path },
        ...(opts.inputs && Object.keys(opts.inputs).length ? { inputs: opts.inputs } : {}),
      },
      internalParameters: {
        github: {
          event_name: env.GITHUB_EVENT_NAME ?? "",
          repository_id: env.GITHUB_REPOSITORY_ID ?? "",
          repository_owner_id: env.GITHUB_REPOSITORY_OWNER_ID ?? "",
          runner_environment: env.RUNNER_ENVIRONMENT ?? "",
        },
      },
      resolvedDependencies: sha
        ? [{ uri: `git+${server}/${repo}@${env.GITHUB_REF ?? ""}`, digest: { gitCommit: sha } }]
        : [],
    },
    runDetails: {
      builder: { id: `${server}/${workflowRef || repo}` },
      metadata: {
        invocationId: `${server}/${repo}/actions/runs/${runId}/attempts/${attempt}`,
        ...(opts.startedOn ? { startedOn: opts.startedOn.toISOString() } : {}),
        ...(opts.finishedOn ? { finishedOn: opts.finishedOn.toISOString() } : {}),
      },
    },
  };
}
