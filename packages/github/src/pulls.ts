// The GitHub side of digest-bump: one commit through the Git data API and one upserted pull
// request per bump branch, safe against other pipelines writing the same repository.
//
// The commit is made through the Git data API (git-data.ts says why, and how GitHub signs it).
//
// Concurrency: every ref write is a compare-and-swap, so a change is never lost.
// - new branch: POST git/refs, which fails with 422 "Reference already exists" if someone won;
// - branch up to date with base: PATCH git/refs with force=false, which fails with 422 "Update is
//   not a fast forward" if the branch moved (our commit's parent is the head we read);
// - branch behind base: the commit is rebuilt with the CURRENT base head as its parent, and the
//   branch is moved with GraphQL `updateRefs`, whose `beforeOid` makes the forced move conditional
//   on the head we read (REST has no conditional force-push).
// On a lost race the whole change is recomputed: `build` runs again on the new head, bounded
// (5 attempts, jittered backoff), then a PlatformError.
import { backoffDelay, type Logger, PlatformError } from "@platform/core";
import {
  detailOf,
  type Entry,
  Git,
  gitBlobSha,
  normalizePath,
  overlay,
  statusOf,
  type TreeReader,
} from "./git-data.ts";
import type { GitHubClient } from "./octokit.ts";

export type { TreeReader } from "./git-data.ts";

export interface BumpPullRequestRequest {
  owner: string;
  repo: string;
  /** Target branch; the repository's default branch when absent. */
  base?: string;
  /** The bump branch, deterministic per environment and image, e.g. `platform/bump/prod/orders-api`. */
  branch: string;
  title: string;
  body: string;
  labels: string[];
  autoMerge?: "merge" | "squash" | "rebase" | false;
  /** Commit message. */
  message: string;
  /**
   * Computes the files to write from the files as they are now: at the head of the bump branch when
   * it exists and is up to date with base, else at the head of base (see `upsertBumpPullRequest`).
   * It is called again after a lost race, so it must derive everything from what it reads.
   */
  build(
    read: (path: string) => Promise<string | undefined>,
    tree: TreeReader,
  ): Promise<Array<{ path: string; content: string }>>;
}

export interface UpsertDeps {
  log: Logger;
  /** Attempts before giving up on a branch that keeps moving (default 5). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

interface Outcome {
  branch: string;
  base: string;
  /** Files this run's commit changed (empty when no commit was made). */
  changedFiles: string[];
  /** The new commit, when this run made one. */
  commitSha?: string;
  /** Tries it took (more than 1 after a lost race). */
  attempts: number;
}

/** A pull request is open for the bump branch. */
export interface PullRequestUpsert extends Outcome {
  /** created: opened now; updated: new commit and/or new title, body or labels; unchanged: nothing written. */
  kind: "created" | "updated" | "unchanged";
  number: number;
  url: string;
  /** Login of the pull request's author: `github-actions[bot]` when it was opened with GITHUB_TOKEN. */
  author?: string;
  created: boolean;
  updated: boolean;
  /** Nothing was written: no commit, no pull request change. */
  noop: boolean;
  /** Present when auto-merge was asked for. */
  autoMerge?: { enabled: boolean; reason?: string };
}

/** Base already has the built content: no pull request is needed (an open one would revert it, so it is closed). */
export interface AlreadyInBase extends Outcome {
  kind: "already-in-base";
  number?: undefined;
  url?: undefined;
  created: false;
  updated: false;
  noop: true;
  closedPullRequest?: { number: number; url: string };
}

export type BumpPullRequestResult = PullRequestUpsert | AlreadyInBase;

/** Which kind of token the action was given; decides the warning below. */
export type TokenSource = "github-token" | "github-app" | "personal" | "unknown";

/** A warning to print for this kind of token, or undefined when it has no pitfall. */
export function tokenWarning(source: TokenSource): string | undefined {
  if (source === "github-token") {
    return (
      "The pull request is opened with GITHUB_TOKEN: GitHub does not start workflows for events it causes, " +
      "so no checks run on the bump pull request and required checks never report (auto-merge then waits forever). " +
      "Use a GitHub App installation token instead: create it in the job with actions/create-github-app-token " +
      "(App permissions contents: write and pull-requests: write) and pass it as `token`."
    );
  }
  if (source === "personal") {
    return (
      "The pull request is opened with a personal access token: its commits are not signed by GitHub (not Verified) " +
      "and act as that person. A GitHub App installation token (actions/create-github-app-token) avoids both."
    );
  }
  return undefined;
}

const MAX_BODY = 65_536;

/**
 * Commits the built change to `branch` and opens or updates its pull request into `base`.
 *
 * Rules:
 * - branch missing: it is created from base head with one commit (build reads base head);
 * - branch contains base head (up to date): the change is committed on top of the branch head
 *   (build reads the branch head), so re-running the same bump writes nothing;
 * - branch behind base (base moved since the branch was made): the branch is rebuilt as ONE commit
 *   whose parent is the current base head, so the PR stays mergeable and its checks run on what
 *   would land. build reads base head, overlaid with the files the branch changed that base has not
 *   touched since they diverged (those are carried over); where both changed a file, base wins and
 *   build recomputes the edit on it.
 * - an open PR from branch to base is updated (title, body, missing labels), never duplicated;
 * - when the result equals base, nothing is proposed, and an open PR for the branch is closed.
 */
export async function upsertBumpPullRequest(
  octokit: GitHubClient,
  req: BumpPullRequestRequest,
  deps: UpsertDeps,
): Promise<BumpPullRequestResult> {
  const { log } = deps;
  checkBranchName(req.branch);
  const gh = new Git(octokit, req.owner, req.repo);
  const repository = await gh.repository();
  const base = req.base ?? repository.defaultBranch;
  if (base === req.branch) {
    throw new PlatformError("GITHUB_BRANCH_IS_BASE", `the bump branch "${req.branch}" is the base branch`, {
      input: "branch-prefix",
      hint: "choose a branch prefix that does not produce the base branch name",
    });
  }
  const maxAttempts = deps.maxAttempts ?? 5;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = deps.random ?? Math.random;

  let written: { commitSha?: string; changedFiles: string[]; sameAsBase: boolean } | undefined;
  let attempts = 0;
  for (;;) {
    attempts++;
    const outcome = await commitOnce(gh, req, base, repository.nodeId, log);
    if (outcome !== "race") {
      written = outcome;
      break;
    }
    if (attempts >= maxAttempts) {
      throw new PlatformError(
        "GITHUB_BRANCH_RACE",
        `${req.owner}/${req.repo}: branch ${req.branch} kept moving while the bump was committed (${attempts} attempts)`,
        {
          category: "environment",
          hint: "other pipelines are writing the same bump branch at the same moment; re-run this job",
        },
      );
    }
    const wait = 100 + backoffDelay(attempts, 250, 4000, random);
    log.info(
      `branch ${req.branch} moved while committing (attempt ${attempts}/${maxAttempts}); rebuilding on the new head in ${wait} ms`,
    );
    await sleep(wait);
  }

  const outcome: Outcome = {
    branch: req.branch,
    base,
    changedFiles: written.changedFiles,
    commitSha: written.commitSha,
    attempts,
  };
  if (written.sameAsBase) {
    const open = await findOpenPull(gh, req.branch, base);
    let closedPullRequest: AlreadyInBase["closedPullRequest"];
    if (open) {
      await gh.pulls("update", () =>
        gh.octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
          ...gh.where,
          pull_number: open.number,
          state: "closed",
        }),
      );
      closedPullRequest = { number: open.number, url: open.html_url };
      log.info(`${base} already has this change; closed pull request #${open.number}, which would revert it`);
    } else {
      log.info(`${base} already has this change; no pull request needed`);
    }
    return {
      ...outcome,
      kind: "already-in-base",
      created: false,
      updated: false,
      noop: true,
      closedPullRequest,
    };
  }

  const body = truncateBody(req.body, log);
  let pr = await findOpenPull(gh, req.branch, base);
  let created = false;
  let prChanged = false;
  if (!pr) {
    try {
      pr = await gh.pulls("create", async () => {
        const res = await gh.octokit.request("POST /repos/{owner}/{repo}/pulls", {
          ...gh.where,
          title: req.title,
          body,
          head: req.branch,
          base,
          maintainer_can_modify: false,
        });
        return res.data;
      });
      created = true;
      log.info(`opened pull request #${pr.number}: ${pr.html_url}`);
    } catch (err) {
      // Another pipeline opened it between our lookup and our create: update theirs instead.
      if (!(statusOf(err) === 422 && /already exists/i.test(detailOf(err)))) throw err;
      pr = await findOpenPull(gh, req.branch, base);
      if (!pr) throw err;
    }
  }
  // Without a new commit the open pull request already describes the branch's change; a body rebuilt from
  // an empty plan (the branch already pins the digest) would only erase its file table.
  if (!created && written.commitSha !== undefined && (pr.title !== req.title || (pr.body ?? "") !== body)) {
    await gh.pulls("update", () =>
      gh.octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
        ...gh.where,
        pull_number: pr.number,
        title: req.title,
        body,
      }),
    );
    prChanged = true;
  }
  const have = new Set(pr.labels.map((l) => l.name));
  const missing = [...new Set(req.labels)].filter((l) => l !== "" && !have.has(l));
  if (missing.length > 0) {
    await gh.pulls("label", () =>
      gh.octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", {
        ...gh.where,
        issue_number: pr.number,
        labels: missing,
      }),
    );
    if (!created) prChanged = true;
  }

  const kind = created ? "created" : written.commitSha || prChanged ? "updated" : "unchanged";
  const result: PullRequestUpsert = {
    ...outcome,
    kind,
    number: pr.number,
    url: pr.html_url,
    author: pr.user?.login,
    created: kind === "created",
    updated: kind === "updated",
    noop: kind === "unchanged",
  };
  if (req.autoMerge) result.autoMerge = await enableAutoMerge(gh, pr, req.autoMerge, log);
  if (kind === "unchanged") log.info(`pull request #${pr.number} already has this change; nothing to do`);
  return result;
}

type CommitOutcome = { commitSha?: string; changedFiles: string[]; sameAsBase: boolean } | "race";

/** One read → build → write round; "race" when a ref write lost to another writer. */
async function commitOnce(
  gh: Git,
  req: BumpPullRequestRequest,
  base: string,
  repositoryId: string,
  log: Logger,
): Promise<CommitOutcome> {
  const baseSha = await gh.headOf(base);
  if (!baseSha) {
    throw new PlatformError("GITHUB_BASE_NOT_FOUND", `${req.owner}/${req.repo} has no branch "${base}"`, {
      hint: "check the base branch name, or leave it empty to use the repository's default branch",
    });
  }
  const branchSha = await gh.headOf(req.branch);
  const baseCommit = await gh.commit(baseSha);
  const baseTree = gh.snapshot(baseCommit.tree);

  let mode: "create" | "fast-forward" | "rebuild";
  let parent = baseSha;
  let parentTree = baseTree;
  let reader: TreeReader = baseTree;
  const carried = new Map<string, Entry>();
  // Paths where the branch differs from base before this run (for the "equals base" check).
  let branchDiff: string[] = [];

  if (!branchSha) {
    mode = "create";
  } else if (branchSha === baseSha) {
    mode = "fast-forward";
    parent = branchSha;
  } else {
    const cmp = await gh.compare(baseSha, branchSha);
    const branchTree = gh.snapshot((await gh.commit(branchSha)).tree);
    if (cmp.status === "ahead" || cmp.status === "identical") {
      mode = "fast-forward";
      parent = branchSha;
      parentTree = branchTree;
      reader = branchTree;
      branchDiff = cmp.files;
    } else {
      mode = "rebuild";
      const mergeBase = gh.snapshot(cmp.mergeBaseTree);
      if (cmp.filesTruncated)
        log.warn(`branch ${req.branch} changes too many files to carry over; rebuilding from ${base} only`);
      for (const path of cmp.filesTruncated ? [] : cmp.files) {
        const [ours, theirs, before] = await Promise.all([
          branchTree.entry(path),
          baseTree.entry(path),
          mergeBase.entry(path),
        ]);
        if (ours?.type !== "blob") continue;
        if (theirs?.sha === before?.sha) carried.set(path, ours);
        else log.info(`${path} changed on both ${base} and ${req.branch}; recomputing it on ${base}`);
      }
      reader = overlay(baseTree, branchTree, carried);
      log.info(`branch ${req.branch} is behind ${base}; rebuilding it on ${base} (${baseSha.slice(0, 7)})`);
    }
  }

  const built = await req.build((path) => reader.read(normalizePath(path)), reader);
  const files = checkBuiltFiles(built);

  // What the new tree changes relative to its parent.
  const changes: Array<{ path: string; mode: string; sha: string; content?: string }> = [];
  const finalShas = new Map<string, string | undefined>();
  for (const [path, entry] of carried) {
    changes.push({ path, mode: entry.mode, sha: entry.sha });
    finalShas.set(path, entry.sha);
  }
  for (const { path, content } of files) {
    const existing = await parentTree.entry(path);
    if (existing && existing.type !== "blob") {
      throw new PlatformError(
        "GITHUB_REFUSED_PATH",
        `${path} is a ${existing.type} in ${req.owner}/${req.repo}, not a file`,
        {
          hint: "the bump only rewrites regular files",
        },
      );
    }
    if (existing?.mode === "120000") {
      throw new PlatformError(
        "GITHUB_REFUSED_PATH",
        `${path} is a symbolic link in ${req.owner}/${req.repo}; refusing to replace it`,
        {
          hint: "point the bump at the file the link targets",
        },
      );
    }
    const sha = gitBlobSha(content);
    finalShas.set(path, sha);
    // A built file replaces a carried-over one.
    const carriedAt = changes.findIndex((c) => c.path === path);
    if (carriedAt >= 0) changes.splice(carriedAt, 1);
    if (existing?.sha === sha) continue;
    changes.push({ path, mode: existing?.mode ?? "100644", sha, content });
  }

  // Does the result equal base? Created and rebuilt trees are base plus `changes`; a fast-forward
  // keeps the branch's earlier changes, so only the paths that can differ are compared.
  let sameAsBase = changes.length === 0;
  if (mode === "fast-forward") {
    sameAsBase = true;
    for (const path of new Set([...branchDiff, ...finalShas.keys()])) {
      const final = finalShas.has(path) ? finalShas.get(path) : (await parentTree.entry(path))?.sha;
      if (final !== (await baseTree.entry(path))?.sha) {
        sameAsBase = false;
        break;
      }
    }
  }
  if (sameAsBase) return { changedFiles: [], sameAsBase: true };
  if (changes.length === 0) return { changedFiles: [], sameAsBase: false };

  // Write: blobs, one tree on the parent's tree, one commit, then the conditional ref move.
  for (const c of changes) if (c.content !== undefined) await gh.createBlob(c.content, c.sha);
  const tree = await gh.createTree(
    parentTree.sha,
    changes.map((c) => ({ path: c.path, mode: c.mode, sha: c.sha })),
  );
  const commitSha = await gh.createCommit(req.message, tree, parent);
  const moved =
    mode === "create"
      ? await gh.createBranch(req.branch, commitSha)
      : mode === "fast-forward"
        ? await gh.fastForward(req.branch, commitSha)
        : await gh.forceMoveIf(req.branch, branchSha!, commitSha, repositoryId, log);
  if (!moved) return "race";
  const changedFiles = changes.map((c) => c.path).sort();
  log.info(`committed ${commitSha.slice(0, 7)} to ${req.branch} (${mode}): ${changedFiles.join(", ")}`);
  return { commitSha, changedFiles, sameAsBase: false };
}

interface PullSummary {
  number: number;
  html_url: string;
  node_id: string;
  title: string;
  body: string | null;
  labels: Array<{ name?: string }>;
  auto_merge?: { merge_method: string } | null;
  user?: { login: string } | null;
}

async function findOpenPull(
  gh: Git,
  branch: string,
  base: string,
): Promise<(PullSummary & { labels: Array<{ name: string }> }) | undefined> {
  const res = await gh.read("list pull requests", () =>
    gh.octokit.request("GET /repos/{owner}/{repo}/pulls", {
      ...gh.where,
      state: "open",
      head: `${gh.where.owner}:${branch}`,
      base,
      per_page: 10,
    }),
  );
  const pr = res.data[0];
  if (!pr) return undefined;
  return { ...pr, labels: pr.labels.map((l) => ({ name: l.name ?? "" })) };
}

async function enableAutoMerge(
  gh: Git,
  pr: PullSummary,
  method: "merge" | "squash" | "rebase",
  log: Logger,
): Promise<{ enabled: boolean; reason?: string }> {
  if (pr.auto_merge?.merge_method === method) return { enabled: true };
  try {
    await gh.octokit.graphql(
      `mutation($id: ID!, $mergeMethod: PullRequestMergeMethod!) {
        enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $mergeMethod }) {
          pullRequest { number autoMergeRequest { enabledAt mergeMethod } }
        }
      }`,
      // octokit reserves `method` (and `query`, `url`, `headers`) as variable names.
      { id: pr.node_id, mergeMethod: method.toUpperCase() },
    );
    log.info(`auto-merge (${method}) enabled on #${pr.number}`);
    return { enabled: true };
  } catch (err) {
    const reason = autoMergeReason(err, gh, method);
    log.warn(`auto-merge not enabled on #${pr.number}: ${reason}`);
    return { enabled: false, reason };
  }
}

function autoMergeReason(err: unknown, gh: Git, method: string): string {
  const message = detailOf(err);
  const repo = `${gh.where.owner}/${gh.where.repo}`;
  if (/auto ?merge is not allowed/i.test(message)) {
    return `${repo} does not allow auto-merge: enable "Allow auto-merge" in the repository settings (Settings → General → Pull Requests)`;
  }
  if (/clean status/i.test(message)) {
    return "the pull request can already be merged (no required checks or reviews are pending), and GitHub only enables auto-merge while something is pending; protect the base branch with required checks";
  }
  if (/merge method|merges are not allowed/i.test(message)) {
    return `${repo} does not allow ${method} merges: pick another auto-merge method or allow it in the repository settings`;
  }
  if (statusOf(err) === 403 || /not accessible|FORBIDDEN/i.test(message)) {
    return "the token may not enable auto-merge (it needs pull-requests: write and contents: write)";
  }
  return `GitHub refused: ${message}`;
}

function checkBuiltFiles(
  files: Array<{ path: string; content: string }>,
): Array<{ path: string; content: string }> {
  const seen = new Set<string>();
  return files.map(({ path, content }) => {
    const p = normalizePath(path);
    if (
      p === "" ||
      p.includes("\\") ||
      p.split("/").some((s) => s === "" || s === "." || s === ".." || s === ".git")
    ) {
      throw new PlatformError(
        "GITHUB_BAD_PATH",
        `refusing to write "${path}": not a plain repo-relative path`,
        {
          category: "internal",
        },
      );
    }
    if (seen.has(p))
      throw new PlatformError("GITHUB_BAD_PATH", `the bump wrote "${p}" twice`, { category: "internal" });
    seen.add(p);
    return { path: p, content };
  });
}

function checkBranchName(branch: string): void {
  const bad =
    branch === "" ||
    branch.startsWith("/") ||
    branch.endsWith("/") ||
    branch.endsWith(".lock") ||
    branch.startsWith("-") ||
    branch.includes("..") ||
    branch.includes("//") ||
    branch.includes("@{") ||
    /[\s~^:?*[\\]/.test(branch) ||
    [...branch].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) ||
    branch.split("/").some((s) => s.startsWith("."));
  if (bad) {
    throw new PlatformError("GITHUB_BAD_BRANCH", `"${branch}" is not a valid branch name`, {
      input: "branch-prefix",
      hint: "use letters, digits, '-', '_', '.' and '/' separators, e.g. platform/bump/<env>/<image>",
    });
  }
}

function truncateBody(body: string, log: Logger): string {
  if (body.length <= MAX_BODY) return body;
  const note = "\n\n_…truncated: GitHub limits a pull request body to 65,536 characters._";
  log.warn(`the pull request body has ${body.length} characters; truncating it to GitHub's limit`);
  return body.slice(0, MAX_BODY - note.length) + note;
}
