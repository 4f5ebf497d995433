import { resolve } from "node:path";
import type { Logger } from "@platform/core";
import { ExitCode } from "@platform/core/errors";
import type { PolicyCheckInput, PolicyCheckResult, RegoCompiler } from "@platform/policy";
import { Option } from "commander";
import {
  type Cli,
  configExplicit,
  examples,
  type PlatformCommand,
  withConfig,
  withOutput,
  withRoot,
} from "./cli.ts";
import { registerExportVap } from "./export-vap.ts";
import { listOption } from "./options.ts";
import { runPolicyTest } from "./policy-test.ts";
import { findTool, regoCompiler } from "./tools.ts";

export type PolicyCheckOptions = Omit<
  PolicyCheckInput,
  "manifests" | "config" | "root" | "changes" | "shard" | "configPath"
> & {
  sarif?: string;
  /** A git ref: check only the renders changed since its merge base with HEAD. */
  changedSince?: string;
  /** `i/n`: judge only this shard of the (selected) renders. */
  shard?: string;
  /** Where to write the JSON result `policy merge` reads (any run; each shard of a matrix). */
  result?: string;
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
  const { loadConfig } = await import("@platform/core");
  const { config, source } = await loadConfig(resolve(root, o.config), { explicit: o.configExplicit });
  if (!o.json) io.log.info(source ? `config: ${o.config}` : "config: built-in defaults (no platform.yaml)");
  const { gitChangesSince, parseShard, policyCheck, writeRunFiles } = await import("@platform/policy");
  const shard = o.shard ? parseShard(o.shard) : undefined;
  const changes = o.changedSince ? await gitChangesSince(root, o.changedSince) : undefined;
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
      ...(changes ? { changes } : {}),
      ...(shard ? { shard } : {}),
      ...(o.cache ? { cache: o.cache } : {}),
      configPath: o.config,
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
  await writeRunFiles(root, result, { ...o, shard });
  return { code: await printResult(result, { ...o, root }, io), result };
}

/** Writes SARIF, then prints the result as a table (scope on stderr) or JSON; returns the exit code. */
async function printResult(
  result: PolicyCheckResult,
  o: { root: string; sarif?: string; json: boolean; color: boolean },
  io: { out: (s: string) => void; log: Logger; version: string },
): Promise<number> {
  const { describeScope, renderTable, toSarif } = await import("@platform/policy");
  const root = o.root;
  const { writeFileAtomic } = await import("@platform/core");
  if (o.sarif)
    await writeFileAtomic(
      resolve(root, o.sarif),
      `${JSON.stringify(toSarif(result.results, { version: io.version }), null, 2)}\n`,
      { input: "sarif" },
    );
  if (!o.json && result.scope) for (const line of describeScope(result.scope)) io.log.info(line);
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
    io.out(
      `${JSON.stringify({ results, skipped: result.skipped, summary, ...(result.scope ? { scope: result.scope } : {}) }, null, 2)}\n`,
    );
  } else {
    io.out(`${renderTable(result, { color: o.color })}\n`);
  }
  return exitCodeOf(result);
}

/** `platform policy merge`: combines shard results into one result, SARIF and exit code. */
export async function runPolicyMerge(
  files: string[],
  o: { root: string; sarif?: string; cache?: string; json: boolean; color: boolean },
  io: { out: (s: string) => void; log: Logger; version: string },
): Promise<{ code: number; result: PolicyCheckResult }> {
  const { mergeShards, readShardResults, writeUnitCache } = await import("@platform/policy");
  const root = resolve(o.root);
  const result = mergeShards(await readShardResults(files.map((f) => resolve(root, f))));
  if (o.cache && result.cache) await writeUnitCache(resolve(root, o.cache), result.cache);
  return { code: await printResult(result, { ...o, root }, io), result };
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
export async function renderRuleCounts(result: PolicyCheckResult): Promise<string> {
  const { countsByPolicy } = await import("@platform/policy");
  const rows = countsByPolicy(result).filter((r) => r.fail + r.warn + r.error + r.skip + r.notBound > 0);
  const width = Math.max(6, ...rows.map((r) => r.policy.length));
  const lines = [`${"policy".padEnd(width)}  fail  warn  waived  error  not-bound`];
  for (const r of rows)
    lines.push(
      `${r.policy.padEnd(width)}  ${String(r.fail).padStart(4)}  ${String(r.warn).padStart(4)}  ${String(r.skip).padStart(6)}  ${String(r.error).padStart(5)}  ${String(r.notBound).padStart(9)}`,
    );
  return lines.join("\n");
}

/** Registers `policy check`, `policy merge`, `policy test` and `policy export-vap`. */
export function registerPolicy(program: PlatformCommand, cli: Cli): void {
  const policy = program.command("policy").description("check manifests against the platform's guardrails");
  const check = policy
    .command("check")
    .description(
      "dry-run manifests (files, dirs, globs, kustomize dirs, charts) against the guardrails the cluster enforces",
    )
    .argument("<manifests...>", "files, directories, globs, kustomize directories or Helm charts")
    .addOption(
      new Option("--render <mode>", "how to render directories")
        .choices(["auto", "none", "kustomize", "helm"])
        .default("auto"),
    )
    .option(
      "--policies <list>",
      "builtin, rule ids/names, azure-* presets, or policy files/dirs (comma-separated, repeatable)",
      listOption,
      [],
    )
    .option(
      "--params <file>",
      "param objects for ValidatingAdmissionPolicy bindings (repeatable)",
      listOption,
      [],
    )
    .option("--values <file>", "Helm values file for charts (repeatable)", listOption, [])
    .option("--waivers <file>", "waiver file: exceptions with owner and expiry")
    .addOption(
      new Option("--mode <mode>", "enforce fails on violations; audit and warn report only")
        .choices(["enforce", "audit", "warn"])
        .default("enforce"),
    )
    .option("--sarif <file>", "write SARIF 2.1.0 here")
    .option(
      "--allow-empty",
      "pass when the inputs hold no object (default: checking nothing is an error)",
      false,
    )
    .option("--allow-remote-bases", "let kustomizations use remote bases and charts not vendored", false)
    .option(
      "--kube-version <x.y>",
      "Kubernetes version charts render for (default: platform.yaml, else 1.32)",
    )
    .option(
      "--changed-since <ref>",
      "check only the renders a change since this ref's merge base can affect (e.g. origin/main)",
    )
    .option("--shard <i/n>", "judge only shard i of n of the renders (a CI matrix; merge with policy merge)")
    .option(
      "--cache <file>",
      "unit cache from a previous run: context and shard balance (read, then updated)",
    )
    .option("--result <file>", "write the JSON result that policy merge reads");
  withOutput(withRoot(withConfig(check)), "results");
  examples(
    check,
    "$ platform policy check apps/orders/overlays/prod",
    "$ platform policy check 'apps/**/*.yaml' --policies builtin,policies/ --mode audit",
    "$ platform policy check charts/web --values charts/web/values-prod.yaml -o json",
    "$ kustomize build overlays/prod | platform policy check -",
    "$ platform policy check clusters/ --changed-since origin/main --cache .platform/policy-cache.json",
    "$ platform policy check clusters/ --shard 2/4 --result shard-2.json --sarif shard-2.sarif",
  );
  check.action(async (manifests: string[], o, cmd: PlatformCommand) => {
    const r = await runPolicyCheck(
      manifests,
      { ...o, configExplicit: configExplicit(cmd), color: cli.color },
      {
        out: cli.out,
        log: cli.log,
        env: cli.env,
        repoRoot: cli.repoRoot,
        version: cli.version,
        rego: await regoCompiler(cli.env, cli.repoRoot, cli.log),
      },
    );
    cli.done(r.code);
  });

  const test = policy
    .command("test")
    .description(
      "run Gatekeeper suites (suite.yaml, as gator verify) and Kyverno tests (kyverno-test.yaml) unchanged",
    )
    .argument("<paths...>", "directories or suite files");
  withOutput(withRoot(test, "directory paths are relative to"), "results");
  examples(
    test,
    "$ platform policy test policies/",
    "$ platform policy test gatekeeper-library/library/general/allowedrepos/suite.yaml -o json",
  );
  test.action(async (paths: string[], o) => {
    const r = await runPolicyTest(
      paths,
      { ...o, color: cli.color, rego: await regoCompiler(cli.env, cli.repoRoot, cli.log) },
      { out: cli.out },
    );
    cli.done(r.code);
  });

  registerExportVap(policy, cli);

  const merge = policy
    .command("merge")
    .description("merge the results of a sharded policy check into one result, SARIF and exit code")
    .argument("<results...>", "the JSON result files the shards wrote (--result)")
    .option("--sarif <file>", "write the merged SARIF 2.1.0 here")
    .option("--cache <file>", "write the unit cache of the whole run here (for the next run's --cache)");
  withOutput(withRoot(merge, "directory result paths are relative to"), "results");
  examples(
    merge,
    "$ platform policy merge shard-*.json --sarif policy.sarif --cache .platform/policy-cache.json",
  );
  merge.action(async (files: string[], o) => {
    const r = await runPolicyMerge(files, { ...o, color: cli.color }, cli);
    cli.done(r.code);
  });
}
