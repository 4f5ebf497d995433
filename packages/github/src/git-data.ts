// The Git data API for one repository: heads, commits, compare, trees and blobs read lazily, and the
// writes, with GitHub's error answers turned into PlatformErrors.
//
// Commit method: the REST Git data API (blobs → tree on base_tree → commit → ref). It needs no git
// CLI and no checkout, works on any branch state (create, fast-forward, or rebuild on a new base),
// and lets us pick the parent. Commits are created without author, committer or signature, which
// is what lets GitHub sign them: with a GitHub App installation token (GITHUB_TOKEN is one, for the
// github-actions app) GitHub signs the commit as the bot and shows it Verified. A personal access
// token gets an unsigned commit. GraphQL `createCommitOnBranch` also signs, but it can only append
// to an existing branch head, so it cannot create the branch or rebuild it on a newer base.
//
// Every ref write is a compare-and-swap (see pulls.ts for how a lost race is retried):
// - new branch: POST git/refs, which fails with 422 "Reference already exists" if someone won;
// - branch up to date with base: PATCH git/refs with force=false, which fails with 422 "Update is
//   not a fast forward" if the branch moved (our commit's parent is the head we read);
// - branch behind base: the commit is rebuilt with the CURRENT base head as its parent, and the
//   branch is moved with GraphQL `updateRefs`, whose `beforeOid` makes the forced move conditional
//   on the head we read (REST has no conditional force-push).
import { createHash } from "node:crypto";
import { errorMessage, type Logger, PlatformError } from "@platform/core";
import type { GitHubClient } from "./octokit.ts";

/** Reads a tree of the config repo as it is at one commit (structurally a gitops RepoReader). */
export interface TreeReader {
  /** Every file path (repo-relative) under a directory, recursively; "" for the root. */
  list(dir: string): Promise<string[]>;
  /** The file's UTF-8 text, or undefined when it does not exist (or is a symlink, submodule or binary). */
  read(path: string): Promise<string | undefined>;
}

/** One entry of a Git tree. */
export interface Entry {
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
}

/** The Git data, compare and pulls calls, with GitHub's error answers turned into PlatformErrors. */
export class Git {
  readonly where: { owner: string; repo: string };
  private readonly trees = new Map<string, Snapshot>();
  private readonly blobs = new Map<string, Promise<string | undefined>>();

  readonly octokit: GitHubClient;

  constructor(octokit: GitHubClient, owner: string, repo: string) {
    this.octokit = octokit;
    this.where = { owner, repo };
  }

  private get name(): string {
    return `${this.where.owner}/${this.where.repo}`;
  }

  async repository(): Promise<{ defaultBranch: string; nodeId: string }> {
    try {
      const { data } = await this.octokit.request("GET /repos/{owner}/{repo}", this.where);
      return { defaultBranch: data.default_branch, nodeId: data.node_id };
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 403) {
        throw new PlatformError(
          "GITHUB_REPO_NOT_FOUND",
          `repository ${this.name} was not found, or the token cannot read it`,
          {
            category: "environment",
            input: "config-repo",
            hint: "check `config-repo`; the token needs contents: read on it (GITHUB_TOKEN only reaches the workflow's own repository: use a GitHub App token for another one)",
            cause: err,
          },
        );
      }
      throw this.unexpected("read the repository", err);
    }
  }

  async headOf(branch: string): Promise<string | undefined> {
    try {
      const { data } = await this.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
        ...this.where,
        ref: `heads/${branch}`,
      });
      return data.object.sha;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.unexpected(`read branch ${branch}`, err);
    }
  }

  async commit(sha: string): Promise<{ tree: string }> {
    const { data } = await this.read(`read commit ${sha}`, () =>
      this.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
        ...this.where,
        commit_sha: sha,
      }),
    );
    return { tree: data.tree.sha };
  }

  async compare(
    base: string,
    head: string,
  ): Promise<{ status: string; mergeBaseTree: string; files: string[]; filesTruncated: boolean }> {
    const { data } = await this.read(`compare ${base.slice(0, 7)}...${head.slice(0, 7)}`, () =>
      this.octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
        ...this.where,
        basehead: `${base}...${head}`,
        per_page: 1,
      }),
    );
    const files = (data.files ?? []).filter((f) => f.status !== "removed").map((f) => f.filename);
    // GitHub lists at most 300 files in a comparison.
    return {
      status: data.status,
      mergeBaseTree: data.merge_base_commit.commit.tree.sha,
      files,
      filesTruncated: (data.files ?? []).length >= 300,
    };
  }

  snapshot(treeSha: string): Snapshot {
    let s = this.trees.get(treeSha);
    if (!s) {
      s = new Snapshot(this, treeSha);
      this.trees.set(treeSha, s);
    }
    return s;
  }

  async tree(
    sha: string,
    recursive: boolean,
  ): Promise<{ entries: Array<{ path: string } & Entry>; truncated: boolean }> {
    const { data } = await this.read(`read tree ${sha}`, () =>
      this.octokit.request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
        ...this.where,
        tree_sha: sha,
        ...(recursive ? { recursive: "1" } : {}),
      }),
    );
    const entries = data.tree.flatMap((e) =>
      e.path && e.sha && e.mode && e.type
        ? [{ path: e.path, mode: e.mode, sha: e.sha, type: e.type as Entry["type"] }]
        : [],
    );
    return { entries, truncated: data.truncated };
  }

  blob(sha: string): Promise<string | undefined> {
    let text = this.blobs.get(sha);
    if (!text) {
      text = this.read(`read blob ${sha}`, () =>
        this.octokit.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", {
          ...this.where,
          file_sha: sha,
        }),
      ).then(({ data }) => {
        const bytes = Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8");
        try {
          return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
        } catch {
          return undefined;
        }
      });
      this.blobs.set(sha, text);
    }
    return text;
  }

  async createBlob(content: string, expectedSha: string): Promise<void> {
    const { data } = await this.contents("create a blob", () =>
      this.octokit.request("POST /repos/{owner}/{repo}/git/blobs", {
        ...this.where,
        content: Buffer.from(content, "utf8").toString("base64"),
        encoding: "base64",
      }),
    );
    if (data.sha !== expectedSha) {
      throw new PlatformError(
        "GITHUB_BLOB_MISMATCH",
        `GitHub stored a blob as ${data.sha}, expected ${expectedSha}`,
        {
          category: "internal",
        },
      );
    }
  }

  async createTree(
    baseTree: string,
    entries: Array<{ path: string; mode: string; sha: string }>,
  ): Promise<string> {
    const { data } = await this.contents("create a tree", () =>
      this.octokit.request("POST /repos/{owner}/{repo}/git/trees", {
        ...this.where,
        base_tree: baseTree,
        tree: entries.map((e) => ({
          path: e.path,
          mode: e.mode as "100644",
          type: "blob" as const,
          sha: e.sha,
        })),
      }),
    );
    return data.sha;
  }

  async createCommit(message: string, tree: string, parent: string): Promise<string> {
    // No author, committer or signature: that is what lets GitHub sign it for an App token.
    const { data } = await this.contents("create a commit", () =>
      this.octokit.request("POST /repos/{owner}/{repo}/git/commits", {
        ...this.where,
        message,
        tree,
        parents: [parent],
      }),
    );
    return data.sha;
  }

  /** Creates the branch; false when it already exists (another writer won). */
  async createBranch(branch: string, sha: string): Promise<boolean> {
    try {
      await this.contents(`create branch ${branch}`, () =>
        this.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
          ...this.where,
          ref: `refs/heads/${branch}`,
          sha,
        }),
      );
      return true;
    } catch (err) {
      if (isRefRace(err)) return false;
      throw err;
    }
  }

  /** Moves the branch forward to `sha`; false when it is no longer an ancestor (another writer won). */
  async fastForward(branch: string, sha: string): Promise<boolean> {
    try {
      await this.contents(`update branch ${branch}`, () =>
        this.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
          ...this.where,
          ref: `heads/${branch}`,
          sha,
          force: false,
        }),
      );
      return true;
    } catch (err) {
      if (isRefRace(err)) return false;
      throw err;
    }
  }

  /** Force-moves the branch to `sha` only if it still points at `expected`; false when it moved. */
  async forceMoveIf(
    branch: string,
    expected: string,
    sha: string,
    repositoryId: string,
    log: Logger,
  ): Promise<boolean> {
    try {
      await this.octokit.graphql(
        `mutation($repositoryId: ID!, $name: GitRefname!, $before: GitObjectID!, $after: GitObjectID!) {
          updateRefs(input: { repositoryId: $repositoryId, refUpdates: [{ name: $name, beforeOid: $before, afterOid: $after, force: true }] }) {
            clientMutationId
          }
        }`,
        { repositoryId, name: `refs/heads/${branch}`, before: expected, after: sha },
      );
      return true;
    } catch (err) {
      const message = detailOf(err);
      if (/doesn't exist on type|undefinedField/i.test(message)) {
        // An older GitHub Enterprise Server without updateRefs: check, then force (a small window).
        log.warn(
          "this GitHub has no updateRefs mutation; rebuilding the bump branch without a conditional move",
        );
        if ((await this.headOf(branch)) !== expected) return false;
        await this.contents(`reset branch ${branch}`, () =>
          this.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
            ...this.where,
            ref: `heads/${branch}`,
            sha,
            force: true,
          }),
        );
        return true;
      }
      // Whatever GitHub's wording, a branch that no longer points where we read it lost the race.
      const now = await this.headOf(branch);
      if (now !== expected) return false;
      if (statusOf(err) === 403 || /not accessible|FORBIDDEN|permission/i.test(message)) {
        throw permissionError(this.name, "contents", `reset branch ${branch}`, err);
      }
      throw this.unexpected(`reset branch ${branch}`, err);
    }
  }

  /** Runs a read; GitHub's errors become PlatformErrors. */
  async read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.unexpected(what, err);
    }
  }

  /** Runs a contents write: 403/404 mean the token lacks contents: write. */
  async contents<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PlatformError) throw err;
      const status = statusOf(err);
      if (status === 403 || status === 404) throw permissionError(this.name, "contents", what, err);
      if (isRefRace(err)) throw err;
      throw this.unexpected(what, err);
    }
  }

  /** Runs a pull-request write: 403/404 mean the token lacks pull-requests: write. */
  async pulls<T>(what: "create" | "update" | "label", fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PlatformError) throw err;
      const status = statusOf(err);
      const verb =
        what === "create"
          ? "open a pull request"
          : what === "update"
            ? "update the pull request"
            : "label the pull request";
      if (status === 403 && /not permitted to create or approve pull requests/i.test(detailOf(err))) {
        throw new PlatformError(
          "GITHUB_ACTIONS_CANNOT_OPEN_PULL_REQUESTS",
          `GitHub Actions may not ${verb} in ${this.name}`,
          {
            category: "environment",
            input: "token",
            hint: 'enable "Allow GitHub Actions to create and approve pull requests" (repository or organisation Settings → Actions → General), or better, use a GitHub App token (actions/create-github-app-token)',
            cause: err,
          },
        );
      }
      if (status === 403 || status === 404) throw permissionError(this.name, "pull-requests", verb, err);
      if (status === 422 && what === "create") throw err;
      throw this.unexpected(verb, err);
    }
  }

  private unexpected(what: string, err: unknown): unknown {
    if (err instanceof PlatformError) return err;
    const status = statusOf(err);
    if (status === 401) {
      return new PlatformError(
        "GITHUB_BAD_CREDENTIALS",
        `GitHub rejected the token (401) while trying to ${what}`,
        {
          category: "environment",
          input: "token",
          hint: "the token is invalid or expired; GitHub App installation tokens last one hour, so create it in the same job",
          cause: err,
        },
      );
    }
    if (status === undefined || status >= 500) {
      return new PlatformError(
        "GITHUB_UNAVAILABLE",
        `GitHub did not answer while trying to ${what} in ${this.name}: ${detailOf(err)}`,
        {
          category: "environment",
          hint: "GitHub or the network failed after retries; re-run the job (see https://www.githubstatus.com)",
          cause: err,
        },
      );
    }
    return new PlatformError(
      "GITHUB_REQUEST_FAILED",
      `GitHub answered ${status} while trying to ${what} in ${this.name}: ${detailOf(err)}`,
      {
        category: "environment",
        cause: err,
      },
    );
  }
}

/** The files of one tree, read lazily: one recursive listing, then blobs on demand. */
export class Snapshot implements TreeReader {
  private flat?: Promise<Map<string, Entry> | undefined>;
  private readonly dirs = new Map<string, Promise<Map<string, Entry>>>();

  private readonly git: Git;
  readonly sha: string;

  constructor(git: Git, sha: string) {
    this.git = git;
    this.sha = sha;
  }

  /** Every entry by path, or undefined when GitHub truncated the recursive listing. */
  private all(): Promise<Map<string, Entry> | undefined> {
    this.flat ??= this.git
      .tree(this.sha, true)
      .then(({ entries, truncated }) =>
        truncated
          ? undefined
          : new Map(entries.map((e) => [e.path, { mode: e.mode, type: e.type, sha: e.sha }])),
      );
    return this.flat;
  }

  private dir(sha: string): Promise<Map<string, Entry>> {
    let d = this.dirs.get(sha);
    if (!d) {
      d = this.git.tree(sha, false).then(({ entries }) => new Map(entries.map((e) => [e.path, e])));
      this.dirs.set(sha, d);
    }
    return d;
  }

  async entry(path: string): Promise<Entry | undefined> {
    const all = await this.all();
    if (all) return all.get(path);
    // A huge tree: walk it one directory at a time.
    let sha = this.sha;
    const parts = path.split("/");
    for (let i = 0; i < parts.length; i++) {
      const e = (await this.dir(sha)).get(parts[i]!);
      if (!e) return undefined;
      if (i === parts.length - 1) return e;
      if (e.type !== "tree") return undefined;
      sha = e.sha;
    }
    return undefined;
  }

  async list(dir: string): Promise<string[]> {
    const prefix = normalizePath(dir).replace(/\/+$/, "");
    const all = await this.all();
    if (all) {
      return [...all.entries()]
        .filter(
          ([p, e]) =>
            e.type === "blob" && e.mode !== "120000" && (prefix === "" || p.startsWith(`${prefix}/`)),
        )
        .map(([p]) => p)
        .sort();
    }
    const root = prefix === "" ? { sha: this.sha, type: "tree" } : await this.entry(prefix);
    if (root?.type !== "tree") return [];
    // The whole tree was too large for one listing: walk this directory one level at a time.
    const out: string[] = [];
    const walk = async (sha: string, dir: string): Promise<void> => {
      for (const [name, e] of await this.dir(sha)) {
        const path = dir === "" ? name : `${dir}/${name}`;
        if (e.type === "tree") await walk(e.sha, path);
        else if (e.type === "blob" && e.mode !== "120000") out.push(path);
      }
    };
    await walk(root.sha, prefix);
    return out.sort();
  }

  async read(path: string): Promise<string | undefined> {
    const e = await this.entry(normalizePath(path));
    // Symlinks are not followed (they could point outside the config repo), submodules are not files.
    if (e?.type !== "blob" || e.mode === "120000") return undefined;
    return this.git.blob(e.sha);
  }
}

/** Base, with the carried-over files of the branch on top. */
export function overlay(base: Snapshot, branch: Snapshot, carried: Map<string, Entry>): TreeReader {
  return {
    async list(dir) {
      const prefix = normalizePath(dir).replace(/\/+$/, "");
      const extra = [...carried.keys()].filter((p) => prefix === "" || p.startsWith(`${prefix}/`));
      return [...new Set([...(await base.list(dir)), ...extra])].sort();
    },
    read(path) {
      const p = normalizePath(path);
      return carried.has(p) ? branch.read(p) : base.read(p);
    },
  };
}

function isRefRace(err: unknown): boolean {
  const status = statusOf(err);
  if (status === 409) return true;
  return status === 422 && /not a fast.?forward|already exists|reference does not exist/i.test(detailOf(err));
}

function permissionError(
  repo: string,
  permission: "contents" | "pull-requests",
  what: string,
  err: unknown,
): PlatformError {
  return new PlatformError(
    "GITHUB_PERMISSION_DENIED",
    `the token may not ${what} in ${repo}: it needs ${permission}: write (GitHub answered ${statusOf(err) ?? "?"} ${detailOf(err)})`,
    {
      category: "environment",
      input: "token",
      hint:
        permission === "contents"
          ? "grant `contents: write` (workflow `permissions:` for GITHUB_TOKEN, or the GitHub App's Contents: Read and write)"
          : "grant `pull-requests: write` (workflow `permissions:` for GITHUB_TOKEN, or the GitHub App's Pull requests: Read and write)",
      cause: err,
    },
  );
}

/** The HTTP status of an Octokit error, if it has one. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** GitHub's own words for an error: the message plus any validation error messages. */
export function detailOf(err: unknown): string {
  const e = err as {
    errors?: Array<{ message?: string }>;
    response?: { data?: { message?: string; errors?: Array<{ message?: string } | string> } };
  } | null;
  const parts = [errorMessage(err)];
  for (const x of e?.response?.data?.errors ?? []) {
    const m = typeof x === "string" ? x : x.message;
    if (m && !parts[0]!.includes(m)) parts.push(m);
  }
  for (const x of e?.errors ?? [])
    if (x.message && !parts.join(" ").includes(x.message)) parts.push(x.message);
  return parts.join("; ");
}

/** A repo-relative path without a leading `./` or `/`. */
export function normalizePath(path: string): string {
  return path.replace(/^\.\//, "").replace(/^\/+/, "");
}

/** The Git blob id of UTF-8 text (what `git hash-object` prints), to skip unchanged files without uploading. */
export function gitBlobSha(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}
