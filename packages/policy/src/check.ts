import { resolve } from "node:path";
import { type Logger, type PlatformConfig, PlatformError } from "@platform/core";
import { BUILTIN_RULES } from "./builtin/rules.ts";
import { builtinParams, type CompiledPolicy, compileBuiltins, evaluateAll } from "./evaluate.ts";
import { type LoadResult, loadManifests, type RenderMode } from "./manifests.ts";
import type { PolicyResult, Verdict } from "./types.ts";
import { applyWaivers, loadWaivers } from "./waivers.ts";

export type PolicyMode = "enforce" | "audit" | "warn";

export interface PolicyCheckInput {
  manifests: string[];
  render: RenderMode;
  /** `builtin` for every built-in guardrail, or rule ids/names (PLAT001, image-digest) for a subset. */
  policies: string[];
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

/** Resolves the `policies` input to compiled built-in rules; unknown names are a usage error. */
export function selectPolicies(names: string[], config: PlatformConfig): CompiledPolicy[] {
  const params = builtinParams(config);
  const wanted = names.length === 0 ? ["builtin"] : names;
  if (wanted.includes("builtin")) return compileBuiltins(params, { disabled: config.policy.disabledRules });
  const rules = wanted.map((n) => {
    const rule = BUILTIN_RULES.find((r) => r.id === n || r.name === n || `${r.id}/${r.name}` === n);
    if (!rule) {
      const looksLikePath = /[/\\.]/.test(n);
      throw new PlatformError("POLICY_UNKNOWN", `unknown policy "${n}"`, {
        input: "policies",
        hint: looksLikePath
          ? "Loading the cluster's own policy files (VAP, Gatekeeper, Kyverno) is not available in this release; use `builtin` or built-in rule ids."
          : `Use \`builtin\` or rule ids/names: ${BUILTIN_RULES.map((r) => r.id).join(", ")}.`,
      });
    }
    return rule;
  });
  return compileBuiltins(params, { rules, disabled: config.policy.disabledRules });
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
  const policies = selectPolicies(input.policies, input.config);
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
  });
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
