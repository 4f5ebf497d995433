import { join, resolve } from "node:path";
import { errorMessage, PlatformError, writeFileAtomic } from "@platform/core";
import type { ActionContext, ActionOutcome } from "@platform/github";
import { createOctokit, loadWorkspaceConfig } from "@platform/github";
import {
  findings,
  gitChangesSince,
  mergeShards,
  opaRegoCompiler,
  type PolicyCheckInput,
  type PolicyCheckResult,
  parseShard,
  policyCheck,
  readShardResults,
  shardResultFiles,
  toSarif,
  writeRunFiles,
  writeUnitCache,
} from "@platform/policy";
import { githubChanges } from "./github-changes.ts";
import { writeSummary } from "./summary.ts";

declare const __PLATFORM_VERSION__: string | undefined;
const VERSION = typeof __PLATFORM_VERSION__ === "string" ? __PLATFORM_VERSION__ : "0.0.0-dev";
const MAX_RESULT_FINDINGS = 1000;

/** The parsed inputs: the check's own fields, plus where to write SARIF and the platform.yaml path. */
export type Inputs = Omit<PolicyCheckInput, "config" | "root" | "changes" | "shard" | "configPath"> & {
  sarif?: string;
  config?: string;
  changedSince?: string;
  shard?: string;
  merge: string[];
  result?: string;
  token?: string;
};

/** The action's glue: inputs → policyCheck → annotations, SARIF, summary, outputs. */
export async function policyDryRun(inputs: Inputs, ctx: ActionContext): Promise<ActionOutcome> {
  const root = ctx.workspace;
  const { config, source } = await loadWorkspaceConfig(root, inputs.config);
  ctx.log.info(
    source
      ? `platform config: ${inputs.config ?? "platform.yaml"}`
      : "platform config: built-in defaults (no platform.yaml found)",
  );
  const result = inputs.merge.length > 0 ? await merge(inputs, ctx) : await check(inputs, ctx, config);
  const rows = findings(result);
  for (const r of rows) {
    if (r.verdict === "skip" || r.verdict === "pass") continue;
    const blocking = r.verdict === "error" && result.failure !== undefined && result.failure !== "verdict";
    const level = blocking
      ? "error"
      : inputs.mode === "audit"
        ? "notice"
        : r.verdict === "warn"
          ? "warning"
          : "error";
    const obj = r.kind ? `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}: ` : "";
    ctx.annotate({
      level,
      title: r.policy,
      message: `${obj}${r.message}`,
      file: r.file,
      line: r.line,
      column: r.column,
    });
  }
  let sarifFile = "";
  if (inputs.sarif) {
    sarifFile = resolve(root, inputs.sarif);
    await writeFileAtomic(
      sarifFile,
      `${JSON.stringify(toSarif(result.results, { version: VERSION }), null, 2)}\n`,
      { input: "sarif" },
    );
  }
  writeSummary(ctx, result, rows);
  const failure = result.passed
    ? undefined
    : new PlatformError(
        result.failure === "verdict" ? "POLICY_VIOLATIONS" : "POLICY_INPUT",
        `${result.violations} violation(s) and ${result.errors} input error(s) in ${result.objects} object(s)`,
        {
          category:
            result.failure === "environment"
              ? "environment"
              : result.failure === "input"
                ? "usage"
                : "verdict",
          hint:
            result.failure === "verdict"
              ? "Fix the findings annotated on the files, or add a waiver with an owner and expiry."
              : "Fix the input errors annotated on the files (in every mode, a check that could not read or render what it was given fails).",
        },
      );
  return {
    outputs: { violations: result.violations, "sarif-file": sarifFile },
    result: {
      mode: result.mode,
      passed: result.passed,
      objects: result.objects,
      counts: result.counts,
      waived: result.waived,
      notBound: result.notBound,
      skipped: result.skipped.slice(0, MAX_RESULT_FINDINGS),
      ...(result.scope
        ? {
            scope: {
              ...result.scope,
              judged: result.scope.judged.slice(0, MAX_RESULT_FINDINGS),
              context: {
                ...result.scope.context,
                rendered: result.scope.context.rendered.slice(0, MAX_RESULT_FINDINGS),
              },
            },
          }
        : {}),
      findings: rows
        .slice(0, MAX_RESULT_FINDINGS)
        .map(({ policy, kind, namespace, name, verdict, message, file, line, via, notBound }) => ({
          policy,
          kind,
          namespace,
          name,
          verdict,
          message,
          file,
          line,
          ...(via ? { via } : {}),
          ...(notBound ? { notBound } : {}),
        })),
      truncated: rows.length > MAX_RESULT_FINDINGS,
    },
    failure,
  };
}

/** Merge mode: every shard's result file, merged into the unsharded run's result. */
async function merge(inputs: Inputs, ctx: ActionContext): Promise<PolicyCheckResult> {
  const files = await shardResultFiles(inputs.merge, ctx.workspace);
  if (files.length === 0)
    throw new PlatformError("INPUT_MISSING", `merge: no file matches ${inputs.merge.join(", ")}`, {
      input: "merge",
      hint: "Download every shard's result artifact into the workspace first (actions/download-artifact).",
    });
  const result = mergeShards(await readShardResults(files));
  if (inputs.cache && result.cache) await writeUnitCache(resolve(ctx.workspace, inputs.cache), result.cache);
  return result;
}

/** Check mode, whole or changed-only or one shard; writes the shard result and the cache when asked. */
async function check(
  inputs: Inputs,
  ctx: ActionContext,
  config: PolicyCheckInput["config"],
): Promise<PolicyCheckResult> {
  const root = ctx.workspace;
  const shard = inputs.shard ? parseShard(inputs.shard) : undefined;
  let changes: PolicyCheckInput["changes"];
  let history: PolicyCheckInput["history"];
  if (inputs.changedSince) {
    try {
      changes = await gitChangesSince(root, inputs.changedSince);
    } catch (err) {
      // A shallow checkout has no merge base: ask GitHub for the change, when the run says where it is.
      const [owner, name] = (ctx.github.repository ?? "").split("/");
      if (!inputs.token || !owner || !name || !ctx.github.sha) throw err;
      ctx.log.info(
        `changed-since: no local history (${errorMessage(err)}); listing the change with the GitHub API`,
      );
      const client = createOctokit({ token: inputs.token, log: ctx.log, baseUrl: ctx.env.GITHUB_API_URL });
      ({ changes, history } = await githubChanges(client, {
        owner,
        repo: name,
        base: inputs.changedSince,
        head: ctx.github.sha,
      }));
    }
  }
  const result = await policyCheck(
    {
      manifests: inputs.manifests,
      render: inputs.render,
      policies: inputs.policies,
      params: inputs.params,
      values: inputs.values,
      waivers: inputs.waivers,
      mode: inputs.mode,
      config,
      root,
      allowEmpty: inputs.allowEmpty,
      allowRemoteBases: inputs.allowRemoteBases,
      kubeVersion: inputs.kubeVersion,
      ...(changes ? { changes } : {}),
      ...(history ? { history } : {}),
      ...(shard ? { shard } : {}),
      ...(inputs.cache ? { cache: inputs.cache } : {}),
      configPath: inputs.config ?? "platform.yaml",
    },
    {
      log: ctx.log,
      tools: { kustomize: ctx.env.PLATFORM_KUSTOMIZE, helm: ctx.env.PLATFORM_HELM },
      // Rego-only Gatekeeper templates need the opa CLI on the runner (e.g. open-policy-agent/setup-opa).
      rego: opaRegoCompiler({
        opa: ctx.env.PLATFORM_OPA ?? "opa",
        cacheDir: join(ctx.runnerTemp, "platform-rego-cache"),
        log: ctx.log,
      }),
    },
  );
  await writeRunFiles(root, result, { ...inputs, shard });
  return result;
}
