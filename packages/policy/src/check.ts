import { resolve } from "node:path";
import { type Logger, type PlatformConfig, PlatformError } from "@platform/core";
import type { RegoCompiler } from "./admission/engines.ts";
import { evaluateAll } from "./evaluate.ts";
import { type LoadResult, loadManifests, type RenderMode } from "./manifests.ts";
import { loadPolicies } from "./policies.ts";
import type { PolicyResult, Verdict } from "./types.ts";
import { applyWaivers, loadWaivers } from "./waivers.ts";

export type PolicyMode = "enforce" | "audit" | "warn";

export interface PolicyCheckInput {
  manifests: string[];
  render: RenderMode;
  /** `builtin`, built-in rule ids/names (PLAT001, image-digest), and paths/globs of the cluster's policy files. */
  policies: string[];
  /** Files with param objects for ValidatingAdmissionPolicies (paramKind/paramRef). */
  params?: string[];
  values?: string[];
  waivers?: string;
  mode: PolicyMode;
  config: PlatformConfig;
  /** Workspace root every path is resolved against. */
  root: string;
}

export interface PolicyCheckDeps {
  log?: Logger;
  clock?: () => Date;
  tools?: { kustomize?: string; helm?: string };
  /** Compiles Rego-only Gatekeeper templates (OPA); without it they are reported as not evaluable. */
  rego?: RegoCompiler;
}

export interface PolicyCheckResult {
  mode: PolicyMode;
  /** Every verdict, one row per (policy, object) pass and per offending container/field otherwise. */
  results: PolicyResult[];
  counts: Record<Verdict, number>;
  /** fail rows (errors that block in enforce mode). */
  violations: number;
  warnings: number;
  errors: number;
  objects: number;
  policies: Array<{ id: string; title: string }>;
  units: LoadResult["units"];
  /** Whether the gate passes in this mode. */
  passed: boolean;
}

/** The policy dry-run: load and render manifests, run the guardrails, apply waivers, decide the gate. */
export async function policyCheck(
  input: PolicyCheckInput,
  deps: PolicyCheckDeps = {},
): Promise<PolicyCheckResult> {
  if (input.manifests.length === 0) {
    throw new PlatformError("INPUT_MISSING", "no manifests given", {
      input: "manifests",
      hint: "Pass files, directories, globs, kustomize directories or chart directories.",
    });
  }
  const selection = await loadPolicies(input.policies, {
    config: input.config,
    root: input.root,
    params: input.params,
    rego: deps.rego,
    log: deps.log,
  });
  const policies = selection.policies;
  const waivers = input.waivers ? await loadWaivers(resolve(input.root, input.waivers), input.waivers) : [];
  const loaded = await loadManifests({
    inputs: input.manifests,
    render: input.render,
    values: input.values,
    root: input.root,
    tools: deps.tools,
    log: deps.log,
  });
  deps.log?.info(
    `checking ${loaded.objects.length} object(s) against ${policies.length} polic${policies.length === 1 ? "y" : "ies"}`,
  );
  let results = evaluateAll(loaded.objects, policies, {
    excludedNamespaces: input.config.policy.excludedNamespaces,
    extra: selection.extra,
  });
  results.push(...selection.notes);
  results = applyWaivers(results, waivers, (deps.clock ?? (() => new Date()))());
  results.push(...loaded.problems);
  if (input.mode === "warn")
    results = results.map((r) => (r.verdict === "fail" ? { ...r, verdict: "warn" as const } : r));
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
  for (const r of results) counts[r.verdict]++;
  return {
    mode: input.mode,
    results,
    counts,
    violations: counts.fail,
    warnings: counts.warn,
    errors: counts.error,
    objects: loaded.objects.length,
    policies: policies.map((p) => ({ id: p.id, title: p.title })),
    units: loaded.units,
    passed: input.mode !== "enforce" || (counts.fail === 0 && counts.error === 0),
  };
}
