import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { type Logger, type PlatformConfig, PlatformError } from "@platform/core";
import {
  applyChanges,
  type BumpPlan,
  type BumpWarning,
  diskReader,
  type Environment,
  helmTemplate,
  parseImage,
  planBump,
  promotionCheck,
  type RepoReader,
  type SkippedReference,
} from "@platform/gitops";
import type { GitHubClient } from "./octokit.ts";
import { upsertBumpPullRequest } from "./pulls.ts";
import { escapeMarkdown } from "./summary.ts";

export interface BumpInput {
  /** The built image with its digest: repo@sha256:… (a tag before the digest is kept as the tag). */
  imageRef: string;
  /** owner/name (GitHub mode) or a path to a checkout, relative to `workspace` (local mode). */
  configRepo: string;
  /** Environment names; default the first one of platform.yaml. */
  environments: string[];
  /** Directories to search; default each environment's path. */
  paths: string[];
  branchPrefix: string;
  autoMerge: "merge" | "squash" | "rebase" | false;
  labels: string[];
  base?: string;
  force: boolean;
  /** The new tag (default: the image-ref's tag), for tag policy `update`. */
  tag?: string;
  /** What happens to a tag beside the digest; default `update` with a tag, else `drop`. */
  tagPolicy?: "update" | "keep" | "drop";
  /** Bump although some references found are not edited (each is still a warning). */
  allowSkipped: boolean;
  /** Check every Helm values edit with `helm template` (default true; false edits without rendering). */
  verifyRender: boolean;
  /** The helm binary (default `helm` on PATH). */
  helm?: string;
  config: PlatformConfig;
  workspace: string;
  /** Link to the build run, for the pull request body. */
  runUrl?: string;
}

export interface EnvironmentOutcome {
  environment: string;
  /**
   * pull-request: opened or updated; unchanged: nothing to write; edited: local checkout changed; blocked:
   * promotion rule; incomplete: references found but not edited (and not allowed), so nothing was written.
   */
  status: "pull-request" | "unchanged" | "edited" | "blocked" | "incomplete";
  number?: number;
  url?: string;
  /** What this run did to the pull request (status pull-request): created, updated, or none when it had the change. */
  operation?: "created" | "updated" | "none";
  /** The pull request's author (`github-actions[bot]` for GITHUB_TOKEN). */
  author?: string;
  files: string[];
  edits: Array<{
    file: string;
    line: number;
    from?: string;
    to: string;
    oldTag?: string;
    newTag?: string;
    tagDropped?: boolean;
  }>;
  /** References found but not edited, with why and the fix. */
  skipped: SkippedReference[];
  warnings: BumpWarning[];
  message: string;
}

export interface BumpOutcome {
  image: string;
  digest: string;
  mode: "github" | "local";
  environments: EnvironmentOutcome[];
}

const OWNER_REPO = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/;

/** Whether `configRepo` names a checkout in the workspace (local mode) rather than owner/name. */
export function isLocalRepo(configRepo: string, workspace: string): boolean {
  const p = resolve(workspace, configRepo);
  return !OWNER_REPO.test(configRepo) || (existsSync(p) && statSync(p).isDirectory());
}

/** The environments to bump, resolved against platform.yaml (with a single implicit one when none are configured). */
function environmentsFor(input: BumpInput): { order: Environment[]; targets: Environment[] } {
  const order = input.config.environments.map((e) => ({ name: e.name, path: e.path }));
  if (order.length === 0) {
    const only = { name: input.environments[0] ?? "default", path: "" };
    return { order: [only], targets: [only] };
  }
  const names = input.environments.length ? input.environments : [order[0]!.name];
  const targets = names.map((n) => {
    const env = order.find((e) => e.name === n);
    if (!env) {
      throw new PlatformError("BUMP_UNKNOWN_ENVIRONMENT", `environment "${n}" is not in platform.yaml`, {
        input: "environments",
        hint: `Use one of: ${order.map((e) => e.name).join(", ")}.`,
      });
    }
    return env;
  });
  return { order, targets };
}

/** The deterministic bump branch: <prefix>/<env>/<image path with slashes as dashes>. */
export function bumpBranch(prefix: string, environment: string, repository: string): string {
  const slug = repository.replace(/^[^/]+\//, "").replace(/[^A-Za-z0-9._-]+/g, "-");
  return `${prefix.replace(/\/+$/, "")}/${environment}/${slug}`;
}

/** The pull request body: what changes where (old → new digest), and where the image came from. */
export function bumpPullRequestBody(o: {
  image: string;
  digest: string;
  environment: string;
  plan: BumpPlan;
  runUrl?: string;
}): string {
  const rows = o.plan.changes.flatMap((c) =>
    c.edits.map(
      (e) =>
        `| \`${escapeMarkdown(c.file)}\`:${e.line} | \`${escapeMarkdown(e.oldDigest ?? "(none)")}\` → \`${escapeMarkdown(e.newDigest)}\` |`,
    ),
  );
  return [
    `Bumps \`${escapeMarkdown(o.image)}\` in **${escapeMarkdown(o.environment)}** to \`${escapeMarkdown(o.digest)}\`.`,
    "",
    "| file | digest |",
    "| --- | --- |",
    ...rows,
    "",
    o.runUrl ? `Built, scanned and signed by [this run](${o.runUrl}).` : "",
    "Only the digest bytes change; the pipeline never deploys — merging this pull request does.",
    "",
    "<sub>Opened by platform digest-bump. A later bump of the same image updates this pull request.</sub>",
  ]
    .filter((l, i, all) => l !== "" || all[i - 1] !== "")
    .join("\n");
}

function edits(plan: BumpPlan): EnvironmentOutcome["edits"] {
  return plan.changes.flatMap((c) =>
    c.edits.map((e) => ({
      file: c.file,
      line: e.line,
      from: e.oldDigest,
      to: e.newDigest,
      ...(e.oldTag !== undefined ? { oldTag: e.oldTag } : {}),
      ...(e.newTag !== undefined ? { newTag: e.newTag } : {}),
      ...(e.tagDropped ? { tagDropped: true } : {}),
    })),
  );
}

/** One line per skipped reference: where, why, and the fix. */
export function skippedLines(skipped: SkippedReference[]): string[] {
  return skipped.map(
    (s) =>
      `${s.file}:${s.line} ${s.path}: ${s.kind.replace("-", " ")}: ${s.reason}${s.hint ? ` — ${s.hint}` : ""}`,
  );
}

/** The error that stops a bump with skipped references (nothing is written): each is named with its fix. */
function incomplete(environment: string, plan: BumpPlan): PlatformError {
  const n = plan.skipped.length;
  return new PlatformError(
    "BUMP_REFERENCES_SKIPPED",
    `${environment}: ${n} reference${n === 1 ? "" : "s"} found but not edited, so nothing was written:\n  ${skippedLines(plan.skipped).join("\n  ")}`,
    {
      category: "verdict",
      file: plan.skipped[0]?.file,
      line: plan.skipped[0]?.line,
      hint: "Fix each reference as its hint says, or set `allow-skipped: true` to bump the others and only warn about these.",
    },
  );
}

/**
 * Bumps an image's digest in each environment of a GitOps config repo: one race-safe, upserted pull request
 * per environment (GitHub mode) or edits in a checkout (local mode), after the promotion rule allows it.
 */
export async function bump(
  input: BumpInput,
  deps: { log: Logger; octokit?: GitHubClient },
): Promise<BumpOutcome> {
  const ref = parseImage(input.imageRef.trim());
  if (!ref) {
    throw new PlatformError("BUMP_BAD_IMAGE_REF", `"${input.imageRef}" is not an image reference`, {
      input: "image-ref",
      hint: "Pass repo@sha256:<digest>, e.g. the image-ref output of build-scan.",
    });
  }
  if (!ref.digest) {
    throw new PlatformError("BUMP_NO_DIGEST", `"${input.imageRef}" has no digest`, {
      input: "image-ref",
      hint: "GitOps config pins images by digest: pass repo@sha256:<digest> (build-scan's image-ref output).",
    });
  }
  const image = ref.name;
  const digest = ref.digest;
  const tag = input.tag ?? ref.tag;
  const planOptions = { helm: input.verifyRender ? helmTemplate(input.helm ?? "helm") : undefined };
  if (!input.verifyRender)
    deps.log.warn("verify-render is false: Helm values edits are not checked against what the chart renders");
  const { order, targets } = environmentsFor(input);
  const local = isLocalRepo(input.configRepo, input.workspace);
  const outcomes: EnvironmentOutcome[] = [];
  for (const env of targets) {
    const paths = input.paths.length ? input.paths : [env.path || "."];
    const request = { image, digest, tag, tagPolicy: input.tagPolicy, paths };
    const promotion = async (reader: RepoReader) =>
      order.length > 1
        ? promotionCheck(reader, { environments: order, target: env.name, image, digest, force: input.force })
        : undefined;
    if (local) {
      const root = resolve(input.workspace, input.configRepo);
      const reader = diskReader(root);
      const verdict = await promotion(reader);
      if (verdict?.verdict === "blocked") {
        outcomes.push({
          environment: env.name,
          status: "blocked",
          files: [],
          edits: [],
          skipped: [],
          warnings: [],
          message: `${verdict.message}. ${verdict.hint}`,
        });
        continue;
      }
      const plan = await planBump(reader, request, planOptions);
      report(env.name, plan, deps.log);
      if (plan.skipped.length && !input.allowSkipped) {
        outcomes.push(incompleteOutcome(env.name, plan));
        continue;
      }
      const files = await applyChanges(root, plan.changes);
      deps.log.info(`${env.name}: ${files.length ? `edited ${files.join(", ")}` : "already at this digest"}`);
      outcomes.push({
        environment: env.name,
        status: files.length ? "edited" : "unchanged",
        files,
        edits: edits(plan),
        skipped: plan.skipped,
        warnings: plan.warnings,
        message: withSkipped(
          files.length ? `edited ${files.length} file(s)` : "already at this digest",
          plan,
        ),
      });
      continue;
    }
    const m = OWNER_REPO.exec(input.configRepo)!;
    if (!deps.octokit)
      throw new PlatformError("BUMP_NO_TOKEN", "GitHub mode needs a token", {
        input: "token",
        hint: "Pass a token with contents: write and pull-requests: write (a GitHub App token is best).",
      });
    let lastPlan: BumpPlan = { references: [], changes: [], skipped: [], warnings: [] };
    let reported = false;
    let result: Awaited<ReturnType<typeof upsertBumpPullRequest>>;
    try {
      result = await upsertBumpPullRequest(
        deps.octokit,
        {
          owner: m[1]!,
          repo: m[2]!,
          base: input.base,
          branch: bumpBranch(input.branchPrefix, env.name, ref.repository),
          title: `Bump ${image.split("/").at(-1)} to ${digest.slice(0, 19)} in ${env.name}`,
          // Read after the commit, so it describes the change that was built last (after any race).
          get body() {
            return bumpPullRequestBody({
              image,
              digest,
              environment: env.name,
              plan: lastPlan,
              runUrl: input.runUrl,
            });
          },
          labels: input.labels,
          autoMerge: input.autoMerge,
          message: `Bump ${image} to ${digest} in ${env.name}`,
          // Recomputed from what is read, so a retry after a lost race rebuilds the change on the new head.
          build: async (_read, tree) => {
            const verdict = await promotion(tree);
            if (verdict?.verdict === "blocked") {
              throw new PlatformError("BUMP_PROMOTION_BLOCKED", `${verdict.message}. ${verdict.hint}`, {
                category: "verdict",
              });
            }
            lastPlan = await planBump(tree, request, planOptions);
            // Logged once: a retry after a lost race plans again on the new head.
            if (!reported) report(env.name, lastPlan, deps.log);
            reported = true;
            if (lastPlan.skipped.length && !input.allowSkipped) throw incomplete(env.name, lastPlan);
            return lastPlan.changes.map((c) => ({ path: c.file, content: c.after }));
          },
        },
        { log: deps.log },
      );
    } catch (err) {
      if (err instanceof PlatformError && err.code === "BUMP_PROMOTION_BLOCKED") {
        outcomes.push({
          environment: env.name,
          status: "blocked",
          files: [],
          edits: [],
          skipped: [],
          warnings: [],
          message: err.message,
        });
        continue;
      }
      if (err instanceof PlatformError && err.code === "BUMP_REFERENCES_SKIPPED") {
        outcomes.push(incompleteOutcome(env.name, lastPlan));
        continue;
      }
      throw err;
    }
    const files = lastPlan.changes.map((c) => c.file);
    if (result.kind === "already-in-base") {
      outcomes.push({
        environment: env.name,
        status: "unchanged",
        files: [],
        edits: [],
        skipped: lastPlan.skipped,
        warnings: lastPlan.warnings,
        message: withSkipped("the base branch already pins this digest", lastPlan),
      });
    } else {
      const refused = result.autoMerge && !result.autoMerge.enabled ? result.autoMerge.reason : undefined;
      if (refused) deps.log.warn(`${env.name}: auto-merge not enabled: ${refused}`);
      const merge = refused
        ? ` (auto-merge not enabled: ${refused})`
        : result.autoMerge?.enabled
          ? " (auto-merge enabled)"
          : "";
      outcomes.push({
        environment: env.name,
        status: "pull-request",
        number: result.number,
        url: result.url,
        operation: result.kind === "unchanged" ? "none" : result.kind,
        author: result.author,
        files,
        edits: edits(lastPlan),
        skipped: lastPlan.skipped,
        warnings: lastPlan.warnings,
        message: withSkipped(`${result.kind} pull request #${result.number}${merge}`, lastPlan),
      });
    }
  }
  return { image, digest, mode: local ? "local" : "github", environments: outcomes };
}

/** Every skipped reference and warning of a plan in the log; the doors (action, CLI) raise them as warnings. */
function report(environment: string, plan: BumpPlan, log: Logger): void {
  for (const line of skippedLines(plan.skipped)) log.info(`${environment}: not edited: ${line}`);
  for (const w of plan.warnings) log.info(`${environment}: warning: ${w.message}`);
}

function withSkipped(message: string, plan: BumpPlan): string {
  const n = plan.skipped.length;
  return n ? `${message}; ${n} reference${n === 1 ? "" : "s"} not edited (allowed)` : message;
}

function incompleteOutcome(environment: string, plan: BumpPlan): EnvironmentOutcome {
  const n = plan.skipped.length;
  return {
    environment,
    status: "incomplete",
    files: [],
    edits: [],
    skipped: plan.skipped,
    warnings: plan.warnings,
    message: `not bumped: ${n} reference${n === 1 ? "" : "s"} found but not edited (set allow-skipped: true to bump the rest)`,
  };
}
