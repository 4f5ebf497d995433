import { type Logger, PlatformError } from "@platform/core";
import { loadManifests } from "@platform/policy";
import type { ManifestObject } from "./workloads.ts";

/**
 * The config repo's manifests as the cluster would get them: kustomize directories and Helm charts
 * rendered with the real tools, exactly as the policy dry-run does.
 */
export async function loadConfigRepo(
  paths: string[],
  o: { root: string; tools?: { kustomize?: string; helm?: string }; log?: Logger },
): Promise<{ objects: ManifestObject[]; units: number }> {
  const loaded = await loadManifests({
    inputs: paths,
    render: "auto",
    root: o.root,
    tools: o.tools,
    log: o.log,
  });
  if (loaded.problems.length) {
    const p = loaded.problems[0]!;
    throw new PlatformError("AKS_CONFIG_REPO", `config-repo-path: ${p.message}`, {
      input: "config-repo-path",
      file: p.file || undefined,
      line: p.line || undefined,
      hint: "The deprecated-API and drain checks need the manifests to render; fix the path or the manifests.",
    });
  }
  return {
    objects: loaded.objects.map((l) => ({ obj: l.obj, file: l.source.file, line: l.source.line })),
    units: loaded.units.length,
  };
}
