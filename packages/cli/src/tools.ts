import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Logger } from "@platform/core";
import type { RegoCompiler } from "@platform/policy";

/**
 * Finds a renderer binary: an explicit PLATFORM_<TOOL> path, then PATH, then the peers folder the test
 * harness installs into (so `npm run demo` works on a machine without kustomize or helm of its own).
 */
export function findTool(name: "kustomize" | "helm", env: NodeJS.ProcessEnv, repoRoot?: string): string {
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

/** The Rego compiler for Gatekeeper templates without CEL code (OPA compiled to WebAssembly), when available. */
export function regoCompiler(
  _env: NodeJS.ProcessEnv,
  _repoRoot: string | undefined,
  _log: Logger,
): RegoCompiler | undefined {
  return undefined;
}
