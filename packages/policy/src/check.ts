import { stat } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { errorMessage, type Logger, type PlatformConfig, PlatformError } from "@platform/core";
import { isDynamicPattern } from "tinyglobby";
import type { RegoCompiler } from "./admission/engines.ts";
import type { GlobalInput } from "./changed.ts";
import { evaluateAll } from "./evaluate.ts";
import { type BaseHistory, type ChangeSet, GitRepo, WorkTreeBlobs } from "./git.ts";
import { DEFAULT_KUBE_VERSION, type LoadResult, loadManifests, type RenderMode } from "./manifests.ts";
import { PlanCache, planCacheFile, planWithCache } from "./plan-cache.ts";
import { WorkTreeView } from "./plan-fs.ts";
import { loadPolicies } from "./policies.ts";
import { policiesReadingEverything, type ScopeReport, scopedLoad } from "./scope.ts";
import type { ShardSpec } from "./shard.ts";
import type { LoadedObject, PolicyResult, Verdict } from "./types.ts";
import { readUnitCache, replaceRecord, type UnitCache } from "./units.ts";
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
  /** Pass when the inputs hold no object at all (default: checking nothing is an error). */
  allowEmpty?: boolean;
  /** Let kustomizations use remote bases and charts that are not vendored (default: refused). */
  allowRemoteBases?: boolean;
  /** Kubernetes version charts are rendered for (default: platform.yaml's policy.kubeVersion, else 1.32). */
  kubeVersion?: string;
  /** Check only the renders this change can affect (from `GitRepo.changedSince` or the GitHub API). */
  changes?: ChangeSet;
  /** The merge base's files when `changes` came from the GitHub API (default: the local git history). */
  history?: BaseHistory;
  /** Judge only this shard of the (selected) renders. */
  shard?: ShardSpec;
  /** A previous run's unit cache (workspace-relative path): context and shard weights; read if present. */
  cache?: string;
  /** The platform.yaml path (workspace-relative) whose change selects everything. */
  configPath?: string;
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
  /** What the walk did not judge, with the reason. */
  skipped: LoadResult["skipped"];
  /** Failures a waiver turned into skips. */
  waived: number;
  /** Cluster policies no binding enforces (reported, never counted as waived). */
  notBound: number;
  /** Whether the gate passes in this mode. */
  passed: boolean;
  /** What a changed-only or sharded run judged, and why. */
  scope?: ScopeReport;
  /** The unit cache after this run: the old entries plus those of every unit rendered (write it back). */
  cache?: UnitCache;
  /**
   * Why the gate did not pass, worst first: a missing tool or environment, a bad input (these fail in every
   * mode: a check that could not look at what it was given has not passed), or the verdict.
   */
  failure?: "environment" | "input" | "verdict";
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
  const loadOptions = {
    inputs: input.manifests,
    render: input.render,
    values: input.values,
    root: input.root,
    tools: deps.tools,
    allowRemoteBases: input.allowRemoteBases,
    kubeVersion: input.kubeVersion ?? input.config.policy.kubeVersion ?? DEFAULT_KUBE_VERSION,
    log: deps.log,
  };
  let loaded: LoadResult;
  let context: LoadedObject[] | undefined;
  let scope: ScopeReport | undefined;
  let cache: UnitCache | undefined;
  if (input.changes || input.shard || input.cache) {
    const repo = await GitRepo.open(input.root);
    const cacheFile = input.cache ? resolve(input.root, input.cache) : undefined;
    // In a git work tree the plan comes from git's listing, not a walk of the disk, and kustomizations
    // parsed by an earlier run are not parsed again (plan-fs.ts): kept beside the unit cache when there is one.
    const blobs = await WorkTreeBlobs.open(repo?.root ?? input.root, repo);
    const planFile = cacheFile ? planCacheFile(cacheFile) : undefined;
    const planCache = planFile ? await PlanCache.open(planFile, { log: deps.log }) : PlanCache.memory();
    const view = repo
      ? await WorkTreeView.open(repo.root, blobs, {
          log: deps.log,
          // As the listing names them: under the real path of the root.
          own: [cacheFile, planFile].flatMap((f) =>
            f ? [resolve(repo.root, relative(resolve(input.root), f))] : [],
          ),
        })
      : undefined;
    const { plan, inputs, fs } = await planWithCache(loadOptions, blobs, view, planCache);
    const previous = cacheFile ? await readUnitCache(cacheFile, deps.log) : undefined;
    const global: GlobalInput[] = [
      ...(await policyPaths(input.root, input.policies)).map((path) => ({ path, what: "policies" })),
      ...(input.params ?? []).map((path) => ({ path, what: "policy params" })),
      ...(input.values ?? []).map((path) => ({ path, what: "helm values" })),
      ...(input.waivers ? [{ path: input.waivers, what: "waivers" }] : []),
      { path: input.configPath ?? "platform.yaml", what: "platform.yaml" },
    ];
    const scoped = await scopedLoad(plan, {
      changes: input.changes,
      shard: input.shard,
      cache: previous,
      global,
      needsAll: await policiesReadingEverything(input.root, input.policies),
      repo,
      blobs,
      inputs,
      ...(fs ? { fs } : {}),
      history: input.history ?? (input.changes?.source === "git" ? repo : undefined),
      salt: JSON.stringify([loadOptions.render, loadOptions.kubeVersion, input.allowRemoteBases ?? false]),
      log: deps.log,
    });
    loaded = scoped.loaded;
    context = scoped.context;
    scope = scoped.report;
    cache = new Map(previous ?? []);
    const planned = new Set(plan.units.map((u) => u.path));
    for (const k of cache.keys()) if (!planned.has(k)) cache.delete(k);
    for (const [k, r] of scoped.records) cache.set(k, replaceRecord(r, cache.get(k)));
    // Best effort, like the unit cache: a plan cache that cannot be written costs the next run time.
    await planCache.save().catch((err) => deps.log?.warn(`not writing the plan cache: ${errorMessage(err)}`));
  } else loaded = await loadManifests(loadOptions);
  // A scoped run that judges nothing (no render affected, an empty shard) checked what it was asked to.
  const scopedEmpty = scope !== undefined && scope.judged.length === 0 && scope.units > 0;
  if (loaded.objects.length === 0 && !input.allowEmpty && !scopedEmpty) {
    loaded.problems.push(
      emptyInputRow(
        `no Kubernetes object found in ${input.manifests.join(", ")}${loaded.skipped.length ? ` (${loaded.skipped.length} input(s) skipped, listed with the reason)` : ""}`,
        input.manifests[0] ?? ".",
      ),
    );
  }
  deps.log?.info(
    `checking ${loaded.objects.length} object(s) against ${policies.length} polic${policies.length === 1 ? "y" : "ies"}`,
  );
  let results = evaluateAll(loaded.objects, policies, {
    excludedNamespaces: input.config.policy.excludedNamespaces,
    extra: selection.extra,
    ...(context ? { context } : {}),
  });
  // Rows about the policies and waivers themselves: in a sharded run only shard 1 reports them.
  const reportsGlobal = !input.shard || input.shard.index === 1;
  if (reportsGlobal) results.push(...selection.notes);
  results = applyWaivers(results, waivers, (deps.clock ?? (() => new Date()))());
  if (!reportsGlobal) results = results.filter((r) => r.policy !== "waiver/expired");
  results.push(...loaded.problems, ...loaded.notes);
  if (input.mode === "warn")
    results = results.map((r) => (r.verdict === "fail" ? { ...r, verdict: "warn" as const } : r));
  const { counts, failure } = decideGate(results, input.mode);
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
    skipped: loaded.skipped,
    waived: results.filter((r) => r.verdict === "skip" && r.waiver).length,
    notBound: results.filter((r) => r.verdict === "skip" && r.notBound).length,
    passed: failure === undefined,
    ...(failure ? { failure } : {}),
    ...(scope ? { scope } : {}),
    ...(cache ? { cache } : {}),
  };
}

/** The policy inputs that name files (paths, directories, globs), not built-in rules or presets. */
async function policyPaths(root: string, policies: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of policies)
    if (
      isDynamicPattern(p) ||
      /[/.]/.test(p) ||
      (await stat(resolve(root, p)).then(
        () => true,
        () => false,
      ))
    )
      out.push(p);
  return out;
}

/** The error row of a check that found nothing to judge: checking nothing is never a pass. */
export function emptyInputRow(what: string, file: string): PolicyResult {
  return {
    policy: "input/empty",
    kind: "",
    namespace: "",
    name: "",
    verdict: "error",
    severity: "error",
    cause: "input",
    message: `${what}: checking nothing is not a pass. Point \`manifests\` at the files, kustomize directories or charts to check, or set allow-empty: true`,
    file,
    line: 1,
  };
}

/** Counts the verdicts and decides the gate (shared by the check and the merge of shard results). */
export function decideGate(
  results: ReadonlyArray<PolicyResult>,
  mode: PolicyMode,
): { counts: Record<Verdict, number>; failure?: PolicyCheckResult["failure"] } {
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
  for (const r of results) counts[r.verdict]++;
  // Checked less than asked: a missing renderer, a missing input, or nothing at all. Fails in every mode.
  const fatal = results.filter(
    (r) =>
      r.verdict === "error" &&
      (r.cause === "environment" || r.policy === "input/missing" || r.policy === "input/empty"),
  );
  const inputErrors = results.filter((r) => r.verdict === "error");
  const failure: PolicyCheckResult["failure"] = fatal.some((r) => r.cause === "environment")
    ? "environment"
    : fatal.length > 0
      ? "input"
      : mode !== "enforce"
        ? undefined
        : inputErrors.some((r) => r.cause === "environment")
          ? "environment"
          : inputErrors.length > 0
            ? "input"
            : counts.fail > 0
              ? "verdict"
              : undefined;
  return failure ? { counts, failure } : { counts };
}
