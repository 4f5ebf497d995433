import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type Logger, type PlatformConfig, PlatformError } from "@platform/core";
import { isDynamicPattern } from "tinyglobby";
import { classify, emptyDocuments } from "./admission/documents.ts";
import { type RegoCompiler, templateEngines } from "./admission/engines.ts";
import { compileConstraints } from "./admission/gatekeeper.ts";
import { assertKyvernoSupported, compileKyverno } from "./admission/kyverno.ts";
import { compileVaps } from "./admission/vap.ts";
import { BUILTIN_RULES, type BuiltinRule } from "./builtin/rules.ts";
import { type CelEngine, createCelEngine } from "./cel/engine.ts";
import { builtinParams, type CompiledPolicy, compileBuiltins } from "./evaluate.ts";
import { loadManifests } from "./manifests.ts";
import { PRESETS, selectPresets } from "./presets.ts";
import type { LoadedObject, PolicyResult } from "./types.ts";

export interface PolicySelection {
  policies: CompiledPolicy[];
  /** Policies that could not run, or bindings that select nothing: reported as rows. */
  notes: PolicyResult[];
  /** Objects the policies refer to (VAP params, Gatekeeper inventory): visible to lookups, not judged. */
  extra: LoadedObject[];
}

/**
 * Resolves the `policies` input: `builtin`, built-in rule ids or names, and paths, directories or globs of
 * the cluster's own policies (ValidatingAdmissionPolicy + bindings, Gatekeeper ConstraintTemplates +
 * constraints, Kyverno ValidatingPolicies), all compiled onto one CEL engine; `params` adds param objects.
 */
export async function loadPolicies(
  names: string[],
  opts: {
    config: PlatformConfig;
    root: string;
    params?: string[];
    engine?: CelEngine;
    rego?: RegoCompiler;
    log?: Logger;
  },
): Promise<PolicySelection> {
  const engine = opts.engine ?? createCelEngine();
  const wanted = names.length === 0 ? ["builtin"] : names;
  const presets = await selectPresets(wanted, { config: opts.config, root: opts.root });
  const rules: BuiltinRule[] = [];
  const paths: string[] = [];
  for (const n of presets.rest) {
    if (n === "builtin") rules.push(...BUILTIN_RULES);
    else {
      const rule = BUILTIN_RULES.find((r) => r.id === n || r.name === n || `${r.id}/${r.name}` === n);
      if (rule) rules.push(rule);
      else if (isDynamicPattern(n) || existsSync(resolve(opts.root, n))) paths.push(n);
      else {
        throw new PlatformError(
          "POLICY_UNKNOWN",
          `unknown policy "${n}": not a built-in rule and no such file`,
          {
            input: "policies",
            hint: `Use \`builtin\`, rule ids/names (${BUILTIN_RULES.map((r) => r.id).join(", ")}), Azure Policy presets (${PRESETS.map((p) => p.name).join(", ")}), or paths of policy files relative to the workspace.`,
          },
        );
      }
    }
  }
  const policies: CompiledPolicy[] = [];
  if (rules.length)
    policies.push(
      ...compileBuiltins(builtinParams(opts.config), {
        rules: [...new Set(rules)],
        disabled: opts.config.policy.disabledRules,
        engine,
      }),
    );
  const notes: PolicyResult[] = [];
  const extra: LoadedObject[] = [];
  if (paths.length || opts.params?.length || presets.objects.length) {
    const loaded = await loadManifests({
      inputs: [...paths, ...(opts.params ?? [])],
      render: "none",
      root: opts.root,
      log: opts.log,
    });
    for (const p of loaded.problems) notes.push({ ...p, policy: "input/policies" });
    const docs = classify([...presets.objects, ...loaded.objects], emptyDocuments());
    // A Kyverno policy we cannot run would otherwise sit among the params unjudged: "0 policies, PASSED".
    assertKyvernoSupported(docs.others);
    const vap = compileVaps(docs.vaps, docs.bindings, engine);
    const engines = await templateEngines(docs.templates, engine, opts.rego, opts.log);
    const gk = compileConstraints(docs.constraints, engines);
    policies.push(...vap.policies, ...gk.policies, ...compileKyverno(docs.kyverno));
    // A VAP without a binding is skipped by compileVaps: the cluster does not enforce it, which is not a waiver.
    notes.push(
      ...vap.notes.map((n) =>
        n.verdict === "skip" && n.kind === "ValidatingAdmissionPolicy" ? { ...n, notBound: true } : n,
      ),
      ...gk.notes,
    );
    extra.push(...docs.others);
    opts.log?.info(
      `policies: ${docs.vaps.length} ValidatingAdmissionPolicy (${docs.bindings.length} binding(s)), ${docs.templates.length} ConstraintTemplate (${docs.constraints.length} constraint(s)), ${docs.kyverno.length} Kyverno ValidatingPolicy`,
    );
  }
  return { policies, notes, extra };
}
