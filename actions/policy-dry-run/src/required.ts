import { PlatformError } from "@platform/core/errors";
import { parseList } from "@platform/core/list";

/**
 * A check needs manifests (merge mode needs shard results instead). main.ts checks this on the raw inputs
 * before the input schema and the run's code load; policyCheck refuses an empty list with the same error.
 */
export function checkManifests(given: { manifests?: string; merge?: string }): void {
  const list = (raw: string | undefined) => parseList(raw, { comma: true });
  if (list(given.manifests).length === 0 && list(given.merge).length === 0) {
    throw new PlatformError("INPUT_MISSING", "no manifests given", {
      input: "manifests",
      hint: "Pass files, directories, globs, kustomize directories or chart directories.",
    });
  }
}
