import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Logger } from "@platform/core";
import type { RegoCompiler } from "@platform/policy/suites";

/**
 * Finds a renderer binary: an explicit PLATFORM_<TOOL> path, then PATH, then the peers folder the test
 * harness installs into (so `npm run demo` works on a machine without kustomize or helm of its own).
 */
export function findTool(
  name: "kustomize" | "helm" | "opa",
  env: NodeJS.ProcessEnv,
  repoRoot?: string,
): string {
  const explicit = env[`PLATFORM_${name.toUpperCase()}`];
  if (explicit) return explicit;
  for (const dir of (env.PATH ?? "").split(delimiter))
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  if (repoRoot) {
    const peer = join(repoRoot, ".peers", "bin", name);
    if (existsSync(peer)) return peer;
  }
  return name;
}

/** The Rego compiler for Gatekeeper templates without CEL code: OPA (found like the renderers) to WebAssembly. */
export async function regoCompiler(
  env: NodeJS.ProcessEnv,
  repoRoot: string | undefined,
  log: Logger,
): Promise<RegoCompiler> {
  const { opaRegoCompiler } = await import("@platform/policy/suites");
  return opaRegoCompiler({ opa: findTool("opa", env, repoRoot), log });
}
