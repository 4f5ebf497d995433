import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../peers/index.ts";

/** The bundled CLI (packages/cli/dist/platform.js), as `npx platform` runs it. */
export const PLATFORM_CLI = join(REPO_ROOT, "packages", "cli", "dist", "platform.js");

/**
 * Runs the bundled CLI with a clean environment (PATH, the renderers' paths, NO_COLOR) plus `env`;
 * `input` is its stdin.
 */
export function runPlatform(
  args: string[],
  opts: { cwd: string; input?: string; env?: Record<string, string>; tools: Record<string, string> },
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [PLATFORM_CLI, ...args], {
    cwd: opts.cwd,
    encoding: "utf8",
    input: opts.input ?? "",
    env: {
      PATH: process.env.PATH,
      PLATFORM_KUSTOMIZE: opts.tools.kustomize!,
      PLATFORM_HELM: opts.tools.helm!,
      NO_COLOR: "1",
      ...opts.env,
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
