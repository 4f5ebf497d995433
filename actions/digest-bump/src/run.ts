import { digestDetails, escapeMarkdown, PlatformError } from "@platform/core";
import {
  type ActionContext,
  type ActionOutcome,
  bump,
  createOctokit,
  isLocalRepo,
  loadWorkspaceConfig,
  tokenWarning,
} from "@platform/github";

/** The login GitHub gives pull requests opened with a workflow's GITHUB_TOKEN. */
const GITHUB_ACTIONS_BOT = "github-actions[bot]";

export interface Inputs {
  imageRef: string;
  configRepo: string;
  token?: string;
  environments: string[];
  paths: string[];
  branchPrefix?: string;
  autoMerge: "false" | "merge" | "squash" | "rebase";
  labels: string[];
  base?: string;
  force: boolean;
  tag?: string;
  tagPolicy: "auto" | "update" | "keep" | "drop";
  allowSkipped: boolean;
  verifyRender: boolean;
  config?: string;
}

/** The action's glue: inputs → bump (GitHub or local mode) → outputs, summary, annotations. */
export async function digestBump(inputs: Inputs, ctx: ActionContext): Promise<ActionOutcome> {
  const { config } = await loadWorkspaceConfig(ctx.workspace, inputs.config);
  const local = isLocalRepo(inputs.configRepo, ctx.workspace);
  let octokit: ReturnType<typeof createOctokit> | undefined;
  if (!local) {
    if (!inputs.token) {
      throw new PlatformError(
        "BUMP_NO_TOKEN",
        `config-repo "${inputs.configRepo}" is a GitHub repository and no token was given`,
        {
          input: "token",
          hint: "Pass a token with contents: write and pull-requests: write — a GitHub App token from actions/create-github-app-token, so the pull request triggers workflows.",
        },
      );
    }
    octokit = createOctokit({ token: inputs.token, log: ctx.log, baseUrl: ctx.env.GITHUB_API_URL });
  }
  const outcome = await bump(
    {
      imageRef: inputs.imageRef,
      configRepo: inputs.configRepo,
      environments: inputs.environments,
      paths: inputs.paths,
      branchPrefix: inputs.branchPrefix ?? "platform/bump",
      autoMerge: inputs.autoMerge === "false" ? false : inputs.autoMerge,
      labels: inputs.labels,
      base: inputs.base,
      force: inputs.force,
      tag: inputs.tag,
      tagPolicy: inputs.tagPolicy === "auto" ? undefined : inputs.tagPolicy,
      allowSkipped: inputs.allowSkipped,
      verifyRender: inputs.verifyRender,
      helm: ctx.env.PLATFORM_HELM,
      config,
      workspace: ctx.workspace,
      runUrl: ctx.github.runUrl,
    },
    { log: ctx.log, octokit },
  );
  const blocked = outcome.environments.filter((e) => e.status === "blocked");
  const incomplete = outcome.environments.filter((e) => e.status === "incomplete");
  const s = ctx.summary;
  s.verdict(blocked.length || incomplete.length ? "fail" : "pass", `Digest bump: ${outcome.image}`);
  s.raw(`${digestDetails(outcome.digest)}\n(${outcome.mode} mode)\n`, 0);
  s.table(
    ["environment", "result", "pull request", "files"],
    outcome.environments.map((e) => [
      e.environment,
      e.message,
      e.url ? { raw: `[#${e.number}](${e.url})` } : "",
      e.files.join(", "),
    ]),
    0,
  );
  // The files are in the config repo, not at this run's commit: `where` is plain text, the pull request is the link.
  const all = outcome.environments.flatMap((e) => e.edits.map((x) => ({ e, x })));
  // The tag column only when a tag changed: five columns of paths and digests do not fit the first screen.
  const tags = all.some(({ x }) => tagChange(x) !== "");
  const edits = all.map(({ e, x }) => [
    e.environment,
    `${x.file}:${x.line}`,
    { raw: x.from ? digestDetails(x.from) : "(none)" },
    { raw: digestDetails(x.to) },
    ...(tags ? [tagChange(x)] : []),
  ]);
  if (edits.length)
    s.heading("Changes", 3, 1).table(
      ["environment", "where", "from", "to", ...(tags ? ["tag"] : [])],
      edits,
      1,
    );
  const skipped = outcome.environments.flatMap((e) =>
    e.skipped.map((x) => [
      e.environment,
      { raw: `${escapeMarkdown(`${x.file}:${x.line}`)}<br>${escapeMarkdown(x.path)}` },
      { raw: `**${escapeMarkdown(x.kind)}**: ${escapeMarkdown(x.reason)}` },
      x.hint ?? "",
    ]),
  );
  if (skipped.length) {
    s.heading("Found but not edited", 3, 0).table(["environment", "where", "why", "fix"], skipped, 0);
  }
  const warnings = outcome.environments.flatMap((e) => e.warnings.map((w) => [e.environment, w.message]));
  if (warnings.length) s.heading("Warnings", 3, 0).table(["environment", "warning"], warnings, 0);
  for (const e of outcome.environments) {
    if (e.status === "blocked")
      ctx.annotate({ level: "error", title: "promotion blocked", message: `${e.environment}: ${e.message}` });
    for (const x of e.skipped) {
      ctx.annotate({
        level: "warning",
        title: `not edited (${x.kind})`,
        message: `${e.environment}: ${x.path}: ${x.reason}${x.hint ? ` — ${x.hint}` : ""}`,
        file: x.file,
        line: x.line,
      });
    }
    for (const w of e.warnings)
      ctx.annotate({
        level: "warning",
        title: w.code,
        message: `${e.environment}: ${w.message}`,
        file: w.file,
        line: w.line,
      });
  }
  // The token input defaults to the job's GITHUB_TOKEN, which the runner does not expose otherwise; the pull
  // request's author tells (GitHub opens it as github-actions[bot]), so the warning comes after the upsert.
  const byJobToken =
    inputs.token === ctx.env.GITHUB_TOKEN ||
    outcome.environments.some((e) => e.author === GITHUB_ACTIONS_BOT);
  if (!local && byJobToken) {
    ctx.log.warn(tokenWarning("github-token")!);
    ctx.annotate({
      level: "warning",
      title: "bump pull request opened with GITHUB_TOKEN",
      message: tokenWarning("github-token")!,
    });
  }
  const first = outcome.environments.find((e) => e.number !== undefined);
  return {
    outputs: {
      "pull-request-number": first?.number ?? "",
      "pull-request-url": first?.url ?? "",
      "pull-request-operation": first?.operation ?? "none",
      "changed-files": JSON.stringify([...new Set(outcome.environments.flatMap((e) => e.files))]),
    },
    result: outcome,
    failure: blocked.length
      ? new PlatformError(
          "BUMP_PROMOTION_BLOCKED",
          `promotion blocked for ${blocked.map((b) => b.environment).join(", ")}`,
          {
            category: "verdict",
            hint: "Bump the earlier environment first (or set force: true to skip the rule).",
          },
        )
      : incomplete.length
        ? new PlatformError(
            "BUMP_REFERENCES_SKIPPED",
            `not bumped: ${incomplete.map((e) => `${e.environment} (${e.skipped.length} reference${e.skipped.length === 1 ? "" : "s"} found but not edited)`).join(", ")}; nothing was written`,
            {
              category: "verdict",
              hint: 'Fix each reference as the summary\'s "Found but not edited" table says, or set `allow-skipped: true` to bump the others and only warn about these.',
            },
          )
        : undefined,
  };
}

function tagChange(x: { oldTag?: string; newTag?: string; tagDropped?: boolean }): string {
  if (x.tagDropped) return `${x.oldTag} (dropped)`;
  if (x.newTag !== undefined) return `${x.oldTag ?? "(none)"} → ${x.newTag}`;
  return "";
}
