import { execFileSync } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Logger } from "@platform/core";
import { PlatformError } from "@platform/core/errors";
import { type Command, Option } from "commander";
import { type Cli, examples, withConfig, withOutput, withRoot } from "./cli.ts";
import { listOption } from "./options.ts";
import { findTool } from "./tools.ts";

export interface BumpOptions {
  imageRef: string;
  configRepo: string;
  environments: string[];
  paths: string[];
  token?: string;
  branchPrefix: string;
  autoMerge: "false" | "merge" | "squash" | "rebase";
  labels: string[];
  base?: string;
  force: boolean;
  tag?: string;
  tagPolicy: "auto" | "update" | "keep" | "drop";
  allowSkipped: boolean;
  /** commander's `--no-verify-render` sets this false. */
  verifyRender: boolean;
  commit: boolean;
  config: string;
  root: string;
  json: boolean;
}

/** `platform bump`: the digest-bump action from a terminal (local checkout, or GitHub with a token). */
export async function runBump(
  o: BumpOptions,
  io: { out: (s: string) => void; log: Logger; env: NodeJS.ProcessEnv; repoRoot?: string },
): Promise<number> {
  const { bump, createOctokit, isLocalRepo, skippedLines } = await import("@platform/github");
  const root = resolve(o.root);
  const { loadConfig } = await import("@platform/core");
  const { config } = await loadConfig(resolve(root, o.config), { explicit: o.config !== "platform.yaml" });
  const local = isLocalRepo(o.configRepo, root);
  const token = o.token ?? io.env.GITHUB_TOKEN;
  const octokit =
    local || !token ? undefined : createOctokit({ token, log: io.log, baseUrl: io.env.GITHUB_API_URL });
  const outcome = await bump(
    {
      imageRef: o.imageRef,
      configRepo: o.configRepo,
      environments: o.environments,
      paths: o.paths,
      branchPrefix: o.branchPrefix,
      autoMerge: o.autoMerge === "false" ? false : o.autoMerge,
      labels: o.labels,
      base: o.base,
      force: o.force,
      tag: o.tag,
      tagPolicy: o.tagPolicy === "auto" ? undefined : o.tagPolicy,
      allowSkipped: o.allowSkipped,
      verifyRender: o.verifyRender,
      helm: findTool("helm", io.env, io.repoRoot),
      config,
      workspace: root,
    },
    { log: io.log, octokit },
  );
  if (local && o.commit) {
    const files = outcome.environments.flatMap((e) => e.files);
    if (files.length) {
      const repo = resolve(root, o.configRepo);
      // argv, never a shell string: file names come from the config repo.
      execFileSync("git", ["-C", repo, "add", "--", ...files]);
      execFileSync("git", [
        "-C",
        repo,
        "commit",
        "--quiet",
        "-m",
        `Bump ${outcome.image} to ${outcome.digest}`,
        "--",
        ...files,
      ]);
      io.log.info(`committed ${files.length} file(s) in ${o.configRepo}`);
    }
  }
  if (o.json) io.out(`${JSON.stringify(outcome, null, 2)}\n`);
  else {
    for (const e of outcome.environments) {
      io.out(`${e.environment}: ${e.message}${e.url ? ` ${e.url}` : ""}\n`);
      for (const x of e.edits) io.out(`  ${x.file}:${x.line}  ${x.from ?? "(none)"} → ${x.to}\n`);
    }
  }
  for (const e of outcome.environments) {
    for (const line of skippedLines(e.skipped)) io.log.warn(`${e.environment}: not edited: ${line}`);
    for (const w of e.warnings) io.log.warn(`${e.environment}: ${w.message}`);
  }
  return outcome.environments.some((e) => e.status === "blocked" || e.status === "incomplete") ? 1 : 0;
}

/** The demo's bump: a copy of the sample config repo, the diff, and the pull request body GitHub mode would open. */
export async function demoBump(example: string, io: { out: (s: string) => void }): Promise<void> {
  const { bumpPullRequestBody } = await import("@platform/github");
  const { diskReader, planBump } = await import("@platform/gitops");
  const work = await mkdtemp(join(tmpdir(), "platform-demo-"));
  try {
    await cp(join(example, "config-repo"), work, { recursive: true });
    const image = "northwindacr.azurecr.io/orders/api";
    const digest = `sha256:${"5e".repeat(32)}`;
    const plan = await planBump(diskReader(work), { image, digest, paths: ["apps/orders/overlays/dev"] });
    if (plan.changes.length === 0)
      throw new PlatformError("DEMO_NO_CHANGE", "the demo bump found nothing to change", {
        category: "internal",
      });
    io.out(
      `\nA new build of ${image} (${digest.slice(0, 19)}…) reaches dev as a pull request on the config repo:\n\n`,
    );
    for (const c of plan.changes) {
      io.out(`--- a/${c.file}\n+++ b/${c.file}\n`);
      const before = c.before.split("\n");
      const after = c.after.split("\n");
      for (let i = 0; i < Math.max(before.length, after.length); i++) {
        if (before[i] !== after[i]) {
          if (before[i] !== undefined) io.out(`@@ line ${i + 1} @@\n-${before[i]}\n`);
          if (after[i] !== undefined) io.out(`+${after[i]}\n`);
        }
      }
    }
    io.out(
      `\nPull request body (GitHub mode):\n\n${bumpPullRequestBody({ image, digest, environment: "dev", plan })}\n`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Registers `platform bump`. */
export function registerBump(program: Command, cli: Cli): void {
  const cmd = program
    .command("bump")
    .description(
      "bump an image's digest in a GitOps config repo: a pull request per environment, or edits in a checkout",
    )
    .requiredOption("--image-ref <ref>", "the built image with its digest (repo@sha256:…)")
    .requiredOption(
      "--config-repo <repo>",
      "owner/name (GitHub; token from --token or GITHUB_TOKEN) or a path to a checkout",
    )
    .option("--environments <list>", "environments from platform.yaml (default: the first)", listOption, [])
    .option("--paths <list>", "directories to search (default: each environment's path)", listOption, [])
    .option("--token <token>", "GitHub token (default: $GITHUB_TOKEN)")
    .option("--branch-prefix <prefix>", "bump branch prefix", "platform/bump")
    .addOption(
      new Option("--auto-merge <method>", "enable auto-merge")
        .choices(["false", "merge", "squash", "rebase"])
        .default("false"),
    )
    .option(
      "--labels <label>",
      "pull request label (repeatable)",
      (v: string, p: string[] = []) => [...p, v],
      [],
    )
    .option("--base <branch>", "base branch (default: the repository's default branch)")
    .option("--force", "skip the promotion rule", false)
    .option("--tag <tag>", "the new tag, for --tag-policy update (default: the image-ref's tag)")
    .addOption(
      new Option(
        "--tag-policy <policy>",
        "a tag beside the digest: update, keep or drop (auto: update with a tag)",
      )
        .choices(["auto", "update", "keep", "drop"])
        .default("auto"),
    )
    .option(
      "--allow-skipped",
      "bump although some references found are not edited (each is a warning)",
      false,
    )
    .option("--no-verify-render", "edit Helm values without checking the chart's render with helm template")
    .option("--commit", "local mode: commit the edit with git", false);
  withOutput(withRoot(withConfig(cmd)), "the outcome");
  examples(
    cmd,
    "$ platform bump --image-ref myacr.azurecr.io/orders/api@sha256:5e5e… --config-repo ../config-repo --commit",
    "$ GITHUB_TOKEN=… platform bump --image-ref myacr.azurecr.io/orders/api@sha256:5e5e… --config-repo northwind/config --environments dev,prod",
  );
  cmd.action(async (o) => {
    if (o.token) cli.log.secret(o.token);
    cli.done(await runBump(o, cli));
  });
}
