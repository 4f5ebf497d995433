import { resolve } from "node:path";
import { ExitCode, type Logger, loadConfig, writeFileAtomic } from "@platform/core";
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
      allowEmpty: o.allowEmpty,
      allowRemoteBases: o.allowRemoteBases,
      kubeVersion: o.kubeVersion,
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
      ...(r.via ? { via: r.via } : {}),
      ...(r.notBound ? { notBound: true } : {}),
    }));
    const summary = {
      mode: result.mode,
      passed: result.passed,
      ...(result.failure ? { failure: result.failure } : {}),
      objects: result.objects,
      ...result.counts,
      waived: result.waived,
      notBound: result.notBound,
    };
    io.out(`${JSON.stringify({ results, skipped: result.skipped, summary }, null, 2)}\n`);
  } else {
    io.out(`${renderTable(result, { color: o.color })}\n`);
  }
  return { code: exitCodeOf(result), result };
}

/** README's exit codes: 0 passed, 1 the gate failed, 2 an input error, 3 a missing tool or environment. */
export function exitCodeOf(result: PolicyCheckResult): number {
  switch (result.failure) {
    case undefined:
      return ExitCode.ok;
    case "environment":
      return ExitCode.environment;
    case "input":
      return ExitCode.usage;
    default:
      return ExitCode.verdict;
  }
}

/** Per-rule counts as a text table (the terminal's version of the job summary). */
export function renderRuleCounts(result: PolicyCheckResult): string {
  const rows = countsByPolicy(result).filter((r) => r.fail + r.warn + r.error + r.skip + r.notBound > 0);
  const width = Math.max(6, ...rows.map((r) => r.policy.length));
  const lines = [`${"policy".padEnd(width)}  fail  warn  waived  error  not-bound`];
  for (const r of rows)
    lines.push(
      `${r.policy.padEnd(width)}  ${String(r.fail).padStart(4)}  ${String(r.warn).padStart(4)}  ${String(r.skip).padStart(6)}  ${String(r.error).padStart(5)}  ${String(r.notBound).padStart(9)}`,
    );
  return lines.join("\n");
}
