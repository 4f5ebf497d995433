import { resolve } from "node:path";
import { type Logger, loadConfig, writeFileAtomic } from "@platform/core";
import {
  countsByPolicy,
  type PolicyCheckInput,
  type PolicyCheckResult,
  policyCheck,
  type RegoCompiler,
  renderTable,
  toSarif,
} from "@platform/policy";
import { findTool } from "./tools.ts";

export type PolicyCheckOptions = Omit<PolicyCheckInput, "manifests" | "config" | "root"> & {
  sarif?: string;
  config: string;
  configExplicit: boolean;
  root: string;
  json: boolean;
  color: boolean;
};

/** `platform policy check`: runs the dry-run and prints a table (or JSON); returns the exit code. */
export async function runPolicyCheck(
  manifests: string[],
  o: PolicyCheckOptions,
  io: {
    out: (s: string) => void;
    log: Logger;
    env: NodeJS.ProcessEnv;
    repoRoot?: string;
    version: string;
    rego?: RegoCompiler;
  },
): Promise<{ code: number; result: PolicyCheckResult }> {
  const root = resolve(o.root);
  const { config, source } = await loadConfig(resolve(root, o.config), { explicit: o.configExplicit });
  if (!o.json) io.log.info(source ? `config: ${o.config}` : "config: built-in defaults (no platform.yaml)");
  const result = await policyCheck(
    {
      manifests,
      render: o.render,
      policies: o.policies,
      params: o.params,
      values: o.values,
      waivers: o.waivers,
      mode: o.mode,
      config,
      root,
    },
    {
      log: o.json ? undefined : io.log,
      rego: io.rego,
      tools: {
        kustomize: findTool("kustomize", io.env, io.repoRoot),
        helm: findTool("helm", io.env, io.repoRoot),
      },
    },
  );
  if (o.sarif)
    await writeFileAtomic(
      resolve(root, o.sarif),
      `${JSON.stringify(toSarif(result.results, { version: io.version }), null, 2)}\n`,
      { input: "sarif" },
    );
  if (o.json) {
    const results = result.results.map((r) => ({
      policy: r.policy,
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      verdict: r.verdict,
      message: r.message,
      file: r.file,
      line: r.line,
    }));
    io.out(
      `${JSON.stringify({ results, summary: { mode: result.mode, passed: result.passed, objects: result.objects, ...result.counts } }, null, 2)}\n`,
    );
  } else {
    io.out(`${renderTable(result, { color: o.color })}\n`);
  }
  return { code: result.passed ? 0 : 1, result };
}

/** Per-rule counts as a text table (the terminal's version of the job summary). */
export function renderRuleCounts(result: PolicyCheckResult): string {
  const rows = countsByPolicy(result).filter((r) => r.fail + r.warn + r.error + r.skip > 0);
  const width = Math.max(6, ...rows.map((r) => r.policy.length));
  const lines = [`${"policy".padEnd(width)}  fail  warn  waived  error`];
  for (const r of rows)
    lines.push(
      `${r.policy.padEnd(width)}  ${String(r.fail).padStart(4)}  ${String(r.warn).padStart(4)}  ${String(r.skip).padStart(6)}  ${String(r.error).padStart(5)}`,
    );
  return lines.join("\n");
}
