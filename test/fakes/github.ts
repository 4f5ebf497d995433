// A local fake of the GitHub REST and GraphQL endpoints that digest-bump uses, over an in-memory Git
// object store (blobs, trees, commits, refs), pull requests and labels of one repository.
//
// Every REST request and response is checked against GitHub's published OpenAPI description
// (`@octokit/openapi`, api.github.com): the operation is found by method and path template, query
// parameters and the JSON body are validated, and so is every response body the fake sends. GraphQL
// requests are parsed, validated and executed against GitHub's published GraphQL schema
// (`@octokit/graphql-schema`), so an unknown field or a wrong variable type is rejected as GitHub
// would. A mismatch is recorded in `violations`, answered with a 400 (request) or 500 (response),
// and makes `close()` throw, so a test that ignored the failed call still fails.
//
// Failure injection: `failNext` (any status: 5xx, 403/429 rate limits), `raceNext` (another
// pipeline pushes to a branch just before the client's next ref write, so the write meets a real
// non-fast-forward / already-exists answer), `tamperNext` (corrupt the next response of an
// operation, to prove the response validation is real).
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  buildSchema,
  type ExecutionResult,
  execute,
  GraphQLError,
  type GraphQLSchema,
  parse,
  validate,
} from "graphql";
import { type CommitObject, GitStore, type Signature, type TreeChange } from "./github/git.ts";
import { GitHubOpenApi, OpenApiMismatch, type Operation } from "./github/openapi.ts";

export { blobSha, GitStore } from "./github/git.ts";
export { GitHubOpenApi, OpenApiMismatch } from "./github/openapi.ts";

type Json = Record<string, unknown>;

/** One request as the fake saw it, in arrival order. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  /** The documented operation (e.g. `git/update-ref`), or `graphql <field>` for GraphQL. */
  operation?: string;
  status: number;
  /** True when the answer came from `failNext` rather than the fake's logic. */
  injected: boolean;
}

export interface FailureOptions {
  /** How many matching requests get the injected answer (default 1). */
  count?: number;
  /** Only requests whose path contains this string, or matches this pattern. */
  path?: string | RegExp;
  /** Only requests with this method. */
  method?: string;
  headers?: Record<string, string>;
  /** Response body; defaults to a basic-error JSON. */
  body?: string;
}

export interface RaceOptions {
  /** Branch the other pipeline pushes to (created from the default branch if missing). */
  branch: string;
  /** Files the other pipeline's commit writes. */
  files: Record<string, string>;
  message?: string;
  /**
   * Which client request triggers the push (default `ref-write`: the next create-ref, update-ref
   * or updateRefs mutation for that branch, so the client's write loses the race).
   */
  on?: "ref-write" | "get-ref";
  count?: number;
}

export interface GitHubFakeOptions {
  owner?: string;
  repo?: string;
  defaultBranch?: string;
  /** The only token accepted (default: random, `ghs_…` like an installation token). */
  token?: string;
  /** Files of the default branch's first commit. */
  files?: Record<string, string>;
  /** What the token may do (default write for both). */
  permissions?: {
    contents?: "read" | "write";
    pullRequests?: "read" | "write";
    /** `attestations: write` lets a job store artifact attestations (none: the job did not ask for it). */
    attestations?: "none" | "read" | "write";
  };
  /** The repository/organisation setting "Allow GitHub Actions to create and approve pull requests". */
  actionsCanCreatePullRequests?: boolean;
  /** Whether the token is GITHUB_TOKEN (for the setting above); default false. */
  githubActionsToken?: boolean;
  /** The repository setting "Allow auto-merge" (default true). */
  allowAutoMerge?: boolean;
  /** Largest recursive tree answered without `truncated: true` (default 100,000 entries). */
  maxTreeEntries?: number;
}

export interface FakePull {
  number: number;
  nodeId: string;
  title: string;
  body: string | null;
  state: "open" | "closed";
  head: string;
  base: string;
  labels: string[];
  autoMerge?: { method: "MERGE" | "SQUASH" | "REBASE"; enabledAt: string };
  createdAt: string;
  updatedAt: string;
}

export interface GitHubFakeState {
  /** Refs by name without `refs/` (e.g. `heads/main`) → commit sha. */
  refs: Map<string, string>;
  /** Every commit in the store, by sha (a fresh view on each read). */
  readonly commits: Map<string, CommitObject>;
  pulls: FakePull[];
  labels: Map<string, { id: number; color: string }>;
  /** Artifact attestations stored through POST /repos/{owner}/{repo}/attestations, in order. */
  attestations: Array<{ id: number; bundle: Json; subjectDigests: string[] }>;
  store: GitStore;
}

export interface GitHubFake {
  /** Base URL `http://127.0.0.1:<port>`: pass it as the Octokit baseUrl (GraphQL is at /graphql). */
  url: string;
  owner: string;
  repo: string;
  token: string;
  defaultBranch: string;
  state: GitHubFakeState;
  requests: RecordedRequest[];
  /** OpenAPI / GraphQL schema mismatches seen so far; `close()` throws if any remain. */
  violations: string[];
  /** The version of GitHub's OpenAPI description the fake validates against. */
  openApiVersion: string;
  /** Answers the next matching request(s) with `status` instead of the normal response. */
  failNext(status: number, opts?: FailureOptions): void;
  /** A secondary rate limit: 403 (default) or 429, GitHub's message and a `retry-after` header. */
  secondaryRateLimitNext(opts?: {
    status?: 403 | 429;
    retryAfter?: number;
    count?: number;
    path?: string | RegExp;
  }): void;
  /** A primary rate limit: 403 with `x-ratelimit-remaining: 0` and a reset `resetIn` seconds away. */
  primaryRateLimitNext(opts: { resetIn: number; count?: number; path?: string | RegExp }): void;
  /** Another pipeline pushes a commit to `branch` right before the client's next ref write. */
  raceNext(opts: RaceOptions): void;
  /** Runs `action` right before the fake handles the next request of an operation (e.g. `pulls/create`). */
  beforeNext(operationId: string, action: () => void): void;
  /** Opens a pull request as someone else would (no HTTP); returns it. */
  openPull(opts: { head: string; base?: string; title?: string; body?: string }): FakePull;
  /** Rewrites the next response body of an operation (e.g. `pulls/create`) before it is validated. */
  tamperNext(operationId: string, mutate: (body: unknown) => unknown): void;
  /** Pushes a commit with `files` onto `branch` directly (a human or another pipeline); returns its sha. */
  push(branch: string, files: Record<string, string>, message?: string): string;
  /** The text of `path` at a branch name or commit sha. */
  readFile(refOrSha: string, path: string): string | undefined;
  /** Commits reachable from a branch by first parents, newest first. */
  log(branch: string): Array<{ sha: string; message: string; parents: string[]; verified: boolean }>;
  /** Open pull requests. */
  openPulls(): FakePull[];
  close(): Promise<void>;
}

const BOT: Signature = {
  name: "platform-bot[bot]",
  email: "1+platform-bot[bot]@users.noreply.github.com",
  date: "",
};
const HUMAN: Signature = { name: "Mona Lisa", email: "mona@example.com", date: "" };
const DOCS = "https://docs.github.com/rest";
const SECONDARY_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Request {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  raw: string;
  json: unknown;
}

/** Starts the fake on 127.0.0.1 with an ephemeral port. */
export async function startGitHubFake(opts: GitHubFakeOptions = {}): Promise<GitHubFake> {
  const api = GitHubOpenApi.load();
  const owner = opts.owner ?? "octo-org";
  const repo = opts.repo ?? "config";
  const defaultBranch = opts.defaultBranch ?? "main";
  const token = opts.token ?? `ghs_${randomBytes(18).toString("base64url")}`;
  const permissions = {
    contents: "write",
    pullRequests: "write",
    attestations: "write",
    ...opts.permissions,
  };
  const maxTreeEntries = opts.maxTreeEntries ?? 100_000;
  const repoNodeId = `R_kgDO${randomBytes(6).toString("base64url")}`;
  const store = new GitStore();
  const state: GitHubFakeState = {
    refs: new Map(),
    pulls: [],
    labels: new Map(),
    attestations: [],
    store,
    get commits() {
      const out = new Map<string, CommitObject>();
      for (const [sha, o] of store.objects) if (o.type === "commit") out.set(sha, o);
      return out;
    },
  };
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const failures: Array<{ status: number; remaining: number; opts: FailureOptions }> = [];
  const races: Array<RaceOptions & { remaining: number }> = [];
  const tampers: Array<{ operationId: string; mutate: (body: unknown) => unknown }> = [];
  const hooks: Array<{ operationId: string; action: () => void }> = [];
  let clock = Date.parse("2026-01-05T09:00:00Z");
  const now = () => {
    clock += 1000;
    return new Date(clock).toISOString().replace(/\.\d{3}Z$/, "Z");
  };
  let url = "";
  const html = "https://github.com";

  const commitFiles = (
    parent: string | undefined,
    files: Record<string, string>,
    message: string,
    who: Signature,
    verified: boolean,
  ) => {
    const baseTree = parent ? store.commit(parent)!.tree : undefined;
    const changes: TreeChange[] = Object.entries(files).map(([path, content]) => ({
      path,
      entry: { mode: "100644", type: "blob", sha: store.putBlob(content) },
    }));
    const tree = store.applyChanges(baseTree, changes);
    const date = now();
    return store.putCommit({
      tree,
      parents: parent ? [parent] : [],
      message,
      author: { ...who, date },
      committer: { ...who, date },
      verified,
    });
  };
  state.refs.set(
    `heads/${defaultBranch}`,
    commitFiles(undefined, opts.files ?? { "README.md": "# config\n" }, "Initial commit", HUMAN, false),
  );

  const push = (branch: string, files: Record<string, string>, message = "Update from another pipeline") => {
    const parent = state.refs.get(`heads/${branch}`) ?? state.refs.get(`heads/${defaultBranch}`)!;
    const sha = commitFiles(parent, files, message, HUMAN, false);
    state.refs.set(`heads/${branch}`, sha);
    return sha;
  };

  const openPull = (o: { head: string; base?: string; title?: string; body?: string }): FakePull => {
    const at = now();
    const pr: FakePull = {
      number: state.pulls.length + 1,
      nodeId: `PR_kwDO${randomBytes(6).toString("base64url")}`,
      title: o.title ?? `Update ${o.head}`,
      body: o.body ?? null,
      state: "open",
      head: o.head,
      base: o.base ?? defaultBranch,
      labels: [],
      createdAt: at,
      updatedAt: at,
    };
    state.pulls.push(pr);
    return pr;
  };

  const runRace = (branch: string, on: RaceOptions["on"]) => {
    const race = races.find((r) => r.remaining > 0 && r.branch === branch && (r.on ?? "ref-write") === on);
    if (!race) return;
    race.remaining--;
    push(race.branch, race.files, race.message);
  };

  // ---- JSON shapes, built from the description's own examples with our values over them ----
  const rebase = <T>(value: T): T =>
    JSON.parse(
      JSON.stringify(value)
        .replaceAll("https://api.github.com", url)
        .replaceAll("octocat/Hello-World", `${owner}/${repo}`),
    ) as T;
  const userJson = (login: string, type: "User" | "Bot" | "Organization" = "Bot") => {
    const user = rebase(api.example<Json>("pull-request").user as Json);
    // Bots (App installations) live under /apps/<slug> on github.com.
    const htmlUrl = type === "Bot" ? `${html}/apps/${login.replace(/\[bot\]$/, "")}` : `${html}/${login}`;
    return {
      ...user,
      login,
      type,
      id: login.length * 1000 + 7,
      node_id: `U_${login.replace(/\W/g, "")}`,
      html_url: htmlUrl,
    };
  };
  const repoSimple = () => {
    const r = rebase(api.example<Json>("pull-request").head as Json).repo as Json;
    return {
      ...r,
      id: 42,
      node_id: repoNodeId,
      name: repo,
      full_name: `${owner}/${repo}`,
      owner: userJson(owner, "Organization"),
      private: true,
      default_branch: defaultBranch,
      html_url: `${html}/${owner}/${repo}`,
      url: `${url}/repos/${owner}/${repo}`,
      language: null,
    };
  };
  const fullRepo = () => {
    const r = rebase(api.example<Json>("full-repository-default-response"));
    for (const k of ["source", "parent", "template_repository", "organization"]) delete r[k];
    return {
      ...r,
      ...repoSimple(),
      allow_auto_merge: opts.allowAutoMerge ?? true,
      allow_merge_commit: true,
      allow_squash_merge: true,
      allow_rebase_merge: true,
      permissions: {
        admin: false,
        maintain: false,
        push: permissions.contents === "write",
        triage: true,
        pull: true,
      },
    };
  };
  const refJson = (name: string, sha: string) => ({
    ref: `refs/${name}`,
    node_id: `REF_${Buffer.from(name).toString("base64url")}`,
    url: `${url}/repos/${owner}/${repo}/git/refs/${name}`,
    object: { type: "commit", sha, url: `${url}/repos/${owner}/${repo}/git/commits/${sha}` },
  });
  const verification = (c: CommitObject) => ({
    verified: c.verified,
    reason: c.verified ? "valid" : "unsigned",
    signature: c.verified ? "-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n" : null,
    payload: c.verified ? "tree …" : null,
    verified_at: c.verified ? c.committer.date : null,
  });
  const gitCommitJson = (sha: string) => {
    const c = store.commit(sha)!;
    return {
      sha,
      node_id: `C_${sha.slice(0, 12)}`,
      url: `${url}/repos/${owner}/${repo}/git/commits/${sha}`,
      html_url: `${html}/${owner}/${repo}/commit/${sha}`,
      author: c.author,
      committer: c.committer,
      tree: { sha: c.tree, url: `${url}/repos/${owner}/${repo}/git/trees/${c.tree}` },
      message: c.message,
      parents: c.parents.map((p) => ({
        sha: p,
        url: `${url}/repos/${owner}/${repo}/git/commits/${p}`,
        html_url: `${html}/${owner}/${repo}/commit/${p}`,
      })),
      verification: verification(c),
    };
  };
  const commitJson = (sha: string) => {
    const c = store.commit(sha)!;
    return {
      url: `${url}/repos/${owner}/${repo}/commits/${sha}`,
      sha,
      node_id: `C_${sha.slice(0, 12)}`,
      html_url: `${html}/${owner}/${repo}/commit/${sha}`,
      comments_url: `${url}/repos/${owner}/${repo}/commits/${sha}/comments`,
      commit: {
        url: `${url}/repos/${owner}/${repo}/git/commits/${sha}`,
        author: c.author,
        committer: c.committer,
        message: c.message,
        comment_count: 0,
        tree: { sha: c.tree, url: `${url}/repos/${owner}/${repo}/git/trees/${c.tree}` },
        verification: verification(c),
      },
      author: null,
      committer: null,
      parents: c.parents.map((p) => ({ sha: p, url: `${url}/repos/${owner}/${repo}/commits/${p}` })),
    };
  };
  const labelJson = (name: string) => {
    const label = state.labels.get(name)!;
    return {
      id: label.id,
      node_id: `LA_${label.id}`,
      url: `${url}/repos/${owner}/${repo}/labels/${encodeURIComponent(name)}`,
      name,
      // pull-request-simple declares label descriptions as non-null strings; "" fits every shape.
      description: "",
      color: label.color,
      default: false,
    };
  };
  const pullJson = (p: FakePull) => {
    const example = rebase(api.example<Json>("pull-request"));
    const headSha = state.refs.get(`heads/${p.head}`) ?? "0".repeat(40);
    const baseSha = state.refs.get(`heads/${p.base}`)!;
    const prUrl = `${url}/repos/${owner}/${repo}/pulls/${p.number}`;
    const issueUrl = `${url}/repos/${owner}/${repo}/issues/${p.number}`;
    const htmlUrl = `${html}/${owner}/${repo}/pull/${p.number}`;
    const side = (ref: string, sha: string) => ({
      label: `${owner}:${ref}`,
      ref,
      sha,
      user: userJson(owner, "Organization"),
      repo: repoSimple(),
    });
    return {
      ...example,
      url: prUrl,
      id: 1000 + p.number,
      node_id: p.nodeId,
      html_url: htmlUrl,
      diff_url: `${htmlUrl}.diff`,
      patch_url: `${htmlUrl}.patch`,
      issue_url: issueUrl,
      commits_url: `${prUrl}/commits`,
      review_comments_url: `${prUrl}/comments`,
      review_comment_url: `${url}/repos/${owner}/${repo}/pulls/comments{/number}`,
      comments_url: `${issueUrl}/comments`,
      statuses_url: `${url}/repos/${owner}/${repo}/statuses/${headSha}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      // GitHub opens a pull request made with a workflow's GITHUB_TOKEN as github-actions[bot].
      user: userJson(opts.githubActionsToken ? "github-actions[bot]" : "platform-bot[bot]"),
      body: p.body,
      labels: p.labels.map(labelJson),
      milestone: null,
      active_lock_reason: null,
      created_at: p.createdAt,
      updated_at: p.updatedAt,
      closed_at: p.state === "closed" ? p.updatedAt : null,
      merged_at: null,
      merge_commit_sha: null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: side(p.head, headSha),
      base: side(p.base, baseSha),
      _links: {
        self: { href: prUrl },
        html: { href: htmlUrl },
        issue: { href: issueUrl },
        comments: { href: `${issueUrl}/comments` },
        review_comments: { href: `${prUrl}/comments` },
        review_comment: { href: `${url}/repos/${owner}/${repo}/pulls/comments{/number}` },
        commits: { href: `${prUrl}/commits` },
        statuses: { href: `${url}/repos/${owner}/${repo}/statuses/${headSha}` },
      },
      author_association: "NONE",
      auto_merge: p.autoMerge
        ? {
            enabled_by: userJson("platform-bot[bot]"),
            merge_method: p.autoMerge.method.toLowerCase(),
            commit_title: p.title,
            commit_message: "",
          }
        : null,
      draft: false,
      merged: false,
      mergeable: null,
      rebaseable: null,
      mergeable_state: "unknown",
      merged_by: null,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 1,
      deletions: 1,
      changed_files: 1,
    };
  };

  const error = (status: number, message: string, extra: Json = {}): Reply => ({
    status,
    body: { message, documentation_url: DOCS, status: String(status), ...extra },
  });
  const validationFailed = (message: string, errors: unknown[] = []): Reply => ({
    status: 422,
    body: { message, errors, documentation_url: DOCS, status: "422" },
  });
  const forbidden = () => error(403, "Resource not accessible by integration");
  const canWriteContents = () => permissions.contents === "write";
  const canWritePulls = () => permissions.pullRequests === "write";

  // ---- REST operations ----
  const rest = (op: Operation, req: Request): Reply => {
    const p = op.params;
    if (p.owner !== owner || p.repo !== repo) return error(404, "Not Found");
    const body = (req.json ?? {}) as Json;
    switch (op.id) {
      case "repos/get":
        return { status: 200, body: fullRepo() };
      case "git/get-ref": {
        if (String(p.ref).startsWith("heads/")) runRace(String(p.ref).slice(6), "get-ref");
        const sha = state.refs.get(String(p.ref));
        return sha ? { status: 200, body: refJson(String(p.ref), sha) } : error(404, "Not Found");
      }
      case "git/create-ref": {
        if (!canWriteContents()) return forbidden();
        const ref = String(body.ref);
        if (!/^refs\/.+\/.+/.test(ref)) return validationFailed("Reference name is invalid");
        const name = ref.slice(5);
        if (name.startsWith("heads/")) runRace(name.slice(6), "ref-write");
        if (state.refs.has(name)) return validationFailed("Reference already exists");
        if (!store.commit(String(body.sha))) return validationFailed("Object does not exist");
        state.refs.set(name, String(body.sha));
        return {
          status: 201,
          body: refJson(name, String(body.sha)),
          headers: { location: `${url}/repos/${owner}/${repo}/git/refs/${name}` },
        };
      }
      case "git/update-ref": {
        if (!canWriteContents()) return forbidden();
        const name = String(p.ref);
        if (name.startsWith("heads/")) runRace(name.slice(6), "ref-write");
        const current = state.refs.get(name);
        if (!current) return validationFailed("Reference does not exist");
        const next = String(body.sha);
        if (!store.commit(next)) return validationFailed("Object does not exist");
        if (body.force !== true && !store.isAncestor(current, next))
          return validationFailed("Update is not a fast forward");
        state.refs.set(name, next);
        return { status: 200, body: refJson(name, next) };
      }
      case "git/get-commit": {
        const c = store.commit(String(p.commit_sha));
        return c ? { status: 200, body: gitCommitJson(String(p.commit_sha)) } : error(404, "Not Found");
      }
      case "git/create-commit": {
        if (!canWriteContents()) return forbidden();
        const tree = store.get(String(body.tree));
        if (tree?.type !== "tree") return validationFailed("Tree SHA does not exist");
        const parents = (body.parents as string[] | undefined) ?? [];
        if (parents.some((s) => !store.commit(s)))
          return validationFailed("Parent SHA does not exist or is not a commit object");
        const date = now();
        // Custom author/committer data means GitHub cannot sign the commit as the App.
        const custom =
          body.author !== undefined || body.committer !== undefined || body.signature !== undefined;
        const sha = store.putCommit({
          tree: String(body.tree),
          parents,
          message: String(body.message),
          author: { ...BOT, date, ...(body.author as Partial<Signature> | undefined) },
          committer: { ...BOT, date, ...(body.committer as Partial<Signature> | undefined) },
          verified: !custom && token.startsWith("ghs_"),
        });
        return {
          status: 201,
          body: gitCommitJson(sha),
          headers: { location: `${url}/repos/${owner}/${repo}/git/commits/${sha}` },
        };
      }
      case "git/get-tree": {
        const tree = store.get(String(p.tree_sha));
        if (tree?.type !== "tree") return error(404, "Not Found");
        const base = `${url}/repos/${owner}/${repo}/git`;
        const entryJson = (path: string, e: { mode: string; type: string; sha: string }) => {
          const blob = store.get(e.sha);
          return {
            path,
            mode: e.mode,
            type: e.type,
            sha: e.sha,
            ...(blob?.type === "blob" ? { size: blob.data.length } : {}),
            url: `${base}/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}`,
          };
        };
        let entries: unknown[];
        if (req.query.recursive !== undefined) {
          entries = [];
          const walk = (sha: string, prefix: string) => {
            for (const e of (
              store.get(sha) as { entries: Array<{ name: string; mode: string; type: string; sha: string }> }
            ).entries) {
              const path = prefix ? `${prefix}/${e.name}` : e.name;
              entries.push(entryJson(path, e));
              if (e.type === "tree") walk(e.sha, path);
            }
          };
          walk(String(p.tree_sha), "");
        } else {
          entries = tree.entries.map((e) => entryJson(e.name, e));
        }
        const truncated = entries.length > maxTreeEntries;
        return {
          status: 200,
          body: {
            sha: p.tree_sha,
            url: `${base}/trees/${p.tree_sha}`,
            tree: entries.slice(0, maxTreeEntries),
            truncated,
          },
        };
      }
      case "git/create-tree": {
        if (!canWriteContents()) return forbidden();
        const baseTree = body.base_tree === undefined ? undefined : String(body.base_tree);
        if (baseTree && store.get(baseTree)?.type !== "tree")
          return validationFailed("base_tree is not a valid tree oid");
        const changes: TreeChange[] = [];
        for (const item of body.tree as Array<Json>) {
          const path = String(item.path);
          if (path.startsWith("/") || path.split("/").some((s) => s === "" || s === "." || s === "..")) {
            return validationFailed("tree.path contains a malformed path component");
          }
          if (item.content !== undefined) {
            changes.push({
              path,
              entry: { mode: String(item.mode), type: "blob", sha: store.putBlob(String(item.content)) },
            });
          } else if (item.sha === null) {
            changes.push({ path, entry: null });
          } else {
            if (!store.has(String(item.sha)))
              return validationFailed(`tree.sha ${item.sha} is not a valid ${item.type}`);
            changes.push({
              path,
              entry: { mode: String(item.mode), type: item.type as "blob", sha: String(item.sha) },
            });
          }
        }
        const sha = store.applyChanges(baseTree, changes);
        const entries = (
          store.get(sha) as { entries: Array<{ name: string; mode: string; type: string; sha: string }> }
        ).entries;
        return {
          status: 201,
          body: {
            sha,
            url: `${url}/repos/${owner}/${repo}/git/trees/${sha}`,
            truncated: false,
            tree: entries.map((e) => ({
              path: e.name,
              mode: e.mode,
              type: e.type,
              sha: e.sha,
              url: `${url}/repos/${owner}/${repo}/git/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}`,
            })),
          },
        };
      }
      case "git/get-blob": {
        const blob = store.get(String(p.file_sha));
        if (blob?.type !== "blob") return error(404, "Not Found");
        const b64 = blob.data.toString("base64").replace(/.{60}/g, "$&\n");
        return {
          status: 200,
          body: {
            sha: p.file_sha,
            node_id: `B_${String(p.file_sha).slice(0, 12)}`,
            size: blob.data.length,
            url: `${url}/repos/${owner}/${repo}/git/blobs/${p.file_sha}`,
            content: `${b64}\n`,
            encoding: "base64",
          },
        };
      }
      case "git/create-blob": {
        if (!canWriteContents()) return forbidden();
        const data =
          body.encoding === "base64"
            ? Buffer.from(String(body.content), "base64")
            : Buffer.from(String(body.content), "utf8");
        const sha = store.putBlob(data);
        return { status: 201, body: { url: `${url}/repos/${owner}/${repo}/git/blobs/${sha}`, sha } };
      }
      case "repos/compare-commits":
      case "repos/compare-commits-with-basehead": {
        let base = String(p.base ?? "");
        let head = String(p.head ?? "");
        if (op.id === "repos/compare-commits-with-basehead")
          [base, head] = String(p.basehead).split("...") as [string, string];
        const resolve = (s: string) => (store.commit(s) ? s : state.refs.get(`heads/${s}`));
        const b = resolve(base);
        const h = resolve(head);
        if (!b || !h) return error(404, "Not Found");
        const mb = store.mergeBase(b, h)!;
        const fromHead = store.ancestors(h);
        const fromBase = store.ancestors(b);
        const ahead = [...fromHead].filter((s) => !fromBase.has(s));
        const behind = [...fromBase].filter((s) => !fromHead.has(s));
        const status =
          b === h ? "identical" : behind.length === 0 ? "ahead" : ahead.length === 0 ? "behind" : "diverged";
        const before = store.flatten(store.commit(mb)!.tree);
        const after = store.flatten(store.commit(h)!.tree);
        const files: unknown[] = [];
        for (const path of new Set([...before.keys(), ...after.keys()])) {
          const x = before.get(path);
          const y = after.get(path);
          if (x?.sha === y?.sha) continue;
          const fileStatus = !x ? "added" : !y ? "removed" : "modified";
          files.push({
            sha: (y ?? x)!.sha,
            filename: path,
            status: fileStatus,
            additions: 0,
            deletions: 0,
            changes: 0,
            blob_url: `${html}/${owner}/${repo}/blob/${h}/${path}`,
            raw_url: `${html}/${owner}/${repo}/raw/${h}/${path}`,
            contents_url: `${url}/repos/${owner}/${repo}/contents/${path}?ref=${h}`,
          });
        }
        const compareUrl = `${url}/repos/${owner}/${repo}/compare/${base}...${head}`;
        return {
          status: 200,
          body: {
            url: compareUrl,
            html_url: `${html}/${owner}/${repo}/compare/${base}...${head}`,
            permalink_url: `${html}/${owner}/${repo}/compare/${owner}:${b.slice(0, 7)}...${owner}:${h.slice(0, 7)}`,
            diff_url: `${html}/${owner}/${repo}/compare/${base}...${head}.diff`,
            patch_url: `${html}/${owner}/${repo}/compare/${base}...${head}.patch`,
            base_commit: commitJson(b),
            merge_base_commit: commitJson(mb),
            status,
            ahead_by: ahead.length,
            behind_by: behind.length,
            total_commits: ahead.length,
            commits: ahead.map(commitJson),
            files,
          },
        };
      }
      case "pulls/list": {
        const stateFilter = req.query.state ?? "open";
        const head = req.query.head;
        const list = state.pulls.filter(
          (pr) =>
            (stateFilter === "all" || pr.state === stateFilter) &&
            (!head || `${owner}:${pr.head}` === head) &&
            (!req.query.base || pr.base === req.query.base),
        );
        return { status: 200, body: list.map(pullJson) };
      }
      case "pulls/get": {
        const pr = state.pulls.find((x) => x.number === Number(p.pull_number));
        return pr ? { status: 200, body: pullJson(pr) } : error(404, "Not Found");
      }
      case "pulls/create": {
        if (!canWritePulls()) return forbidden();
        if (opts.githubActionsToken && opts.actionsCanCreatePullRequests === false) {
          return error(403, "GitHub Actions is not permitted to create or approve pull requests.");
        }
        const head = String(body.head).replace(new RegExp(`^${owner}:`), "");
        const base = String(body.base);
        if (!state.refs.has(`heads/${base}`))
          return validationFailed("Validation Failed", [
            { resource: "PullRequest", field: "base", code: "invalid" },
          ]);
        if (!state.refs.has(`heads/${head}`))
          return validationFailed("Validation Failed", [
            { resource: "PullRequest", field: "head", code: "invalid" },
          ]);
        if (state.pulls.some((x) => x.state === "open" && x.head === head && x.base === base)) {
          return validationFailed("Validation Failed", [
            {
              resource: "PullRequest",
              code: "custom",
              message: `A pull request already exists for ${owner}:${head}.`,
            },
          ]);
        }
        const headSha = state.refs.get(`heads/${head}`)!;
        const baseSha = state.refs.get(`heads/${base}`)!;
        if (store.isAncestor(headSha, baseSha)) {
          return validationFailed("Validation Failed", [
            { resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${head}` },
          ]);
        }
        const pr = openPull({
          head,
          base,
          title: String(body.title),
          body: body.body === undefined ? undefined : String(body.body),
        });
        return {
          status: 201,
          body: pullJson(pr),
          headers: { location: `${url}/repos/${owner}/${repo}/pulls/${pr.number}` },
        };
      }
      case "pulls/update": {
        if (!canWritePulls()) return forbidden();
        const pr = state.pulls.find((x) => x.number === Number(p.pull_number));
        if (!pr) return error(404, "Not Found");
        if (body.title !== undefined) pr.title = String(body.title);
        if (body.body !== undefined) pr.body = String(body.body);
        if (body.state === "open" || body.state === "closed") pr.state = body.state;
        pr.updatedAt = now();
        return { status: 200, body: pullJson(pr) };
      }
      case "repos/create-attestation": {
        if (permissions.attestations !== "write") return forbidden();
        const bundle = body.bundle as Json;
        // GitHub indexes an attestation by the digests of its statement's subjects.
        const envelope = (bundle?.dsseEnvelope ?? {}) as { payload?: string };
        let subjectDigests: string[] = [];
        try {
          const statement = JSON.parse(Buffer.from(envelope.payload ?? "", "base64").toString("utf8"));
          subjectDigests = (statement.subject ?? []).flatMap((x: { digest?: Record<string, string> }) =>
            Object.entries(x.digest ?? {}).map(([alg, hex]) => `${alg}:${hex}`),
          );
        } catch {}
        if (!subjectDigests.length) return validationFailed("Invalid bundle: no in-toto statement subject");
        const id = 1000 + state.attestations.length;
        state.attestations.push({ id, bundle, subjectDigests });
        return { status: 201, body: { id } };
      }
      case "repos/list-attestations": {
        const found = state.attestations.filter((a) => a.subjectDigests.includes(String(p.subject_digest)));
        return {
          status: 200,
          body: { attestations: found.map((a) => ({ bundle: a.bundle, repository_id: 1296269 })) },
        };
      }
      case "issues/add-labels": {
        if (!canWritePulls()) return forbidden();
        const pr = state.pulls.find((x) => x.number === Number(p.issue_number));
        if (!pr) return error(404, "Not Found");
        const names = Array.isArray(body)
          ? (body as string[])
          : ((body.labels as Array<string | { name: string }>) ?? []).map((l) =>
              typeof l === "string" ? l : l.name,
            );
        for (const name of names) {
          // Adding a label that does not exist yet creates it, as GitHub does.
          if (!state.labels.has(name))
            state.labels.set(name, { id: 5000 + state.labels.size, color: "ededed" });
          if (!pr.labels.includes(name)) pr.labels.push(name);
        }
        return { status: 200, body: pr.labels.map(labelJson) };
      }
      default:
        violations.push(`the fake does not implement ${op.method} ${op.template} (${op.id})`);
        return error(501, `the GitHub fake does not implement ${op.id}`);
    }
  };

  // ---- GraphQL ----
  const graphqlRoot = {
    enablePullRequestAutoMerge: (args: {
      input: { pullRequestId: string; mergeMethod?: "MERGE" | "SQUASH" | "REBASE" };
    }) => {
      const pr = state.pulls.find((x) => x.nodeId === args.input.pullRequestId);
      if (!pr)
        throw githubError(
          "NOT_FOUND",
          `Could not resolve to a node with the global id of '${args.input.pullRequestId}'`,
        );
      if (!canWritePulls()) throw githubError("FORBIDDEN", "Resource not accessible by integration");
      if (opts.allowAutoMerge === false)
        throw githubError("UNPROCESSABLE", "Pull request Auto merge is not allowed for this repository");
      if (pr.state !== "open") throw githubError("UNPROCESSABLE", "Pull request is closed");
      pr.autoMerge = { method: args.input.mergeMethod ?? "MERGE", enabledAt: now() };
      return {
        pullRequest: {
          id: pr.nodeId,
          number: pr.number,
          autoMergeRequest: { enabledAt: pr.autoMerge.enabledAt, mergeMethod: pr.autoMerge.method },
        },
      };
    },
    updateRefs: (args: {
      input: {
        repositoryId: string;
        refUpdates: Array<{ name: string; afterOid: string; beforeOid?: string | null; force?: boolean }>;
      };
    }) => {
      if (args.input.repositoryId !== repoNodeId)
        throw githubError(
          "NOT_FOUND",
          `Could not resolve to a node with the global id of '${args.input.repositoryId}'`,
        );
      if (!canWriteContents()) throw githubError("FORBIDDEN", "Resource not accessible by integration");
      for (const u of args.input.refUpdates)
        if (u.name.startsWith("refs/heads/")) runRace(u.name.slice(11), "ref-write");
      // All or nothing: check every update before applying any.
      for (const u of args.input.refUpdates) {
        const current = state.refs.get(u.name.replace(/^refs\//, ""));
        if (u.beforeOid && (current ?? "0".repeat(40)) !== u.beforeOid) {
          throw githubError("UNPROCESSABLE", `A ref update was rejected: ${u.name} is not at ${u.beforeOid}`);
        }
        if (!store.commit(u.afterOid))
          throw githubError("UNPROCESSABLE", `Object ${u.afterOid} does not exist`);
        if (current && !u.force && !store.isAncestor(current, u.afterOid)) {
          throw githubError(
            "UNPROCESSABLE",
            `A ref update was rejected: ${u.name} update is not a fast forward`,
          );
        }
      }
      for (const u of args.input.refUpdates) state.refs.set(u.name.replace(/^refs\//, ""), u.afterOid);
      return { clientMutationId: null };
    },
  };

  const graphql = (req: Request): Reply & { field?: string } => {
    const payload = (req.json ?? {}) as { query?: string; variables?: Record<string, unknown> };
    if (typeof payload.query !== "string") {
      violations.push("GraphQL request without a query string");
      return { status: 400, body: { message: "Problems parsing JSON", documentation_url: DOCS } };
    }
    let document: ReturnType<typeof parse>;
    try {
      document = parse(payload.query);
    } catch (err) {
      violations.push(`GraphQL query does not parse: ${(err as Error).message}`);
      return { status: 200, body: { errors: [{ message: (err as Error).message }] } };
    }
    const schema = githubGraphqlSchema();
    const problems = validate(schema, document);
    if (problems.length > 0) {
      violations.push(
        `GraphQL query does not validate against GitHub's schema: ${problems.map((e) => e.message).join("; ")}`,
      );
      return {
        status: 200,
        body: { errors: problems.map((e) => ({ message: e.message, locations: e.locations })) },
      };
    }
    const result = execute({
      schema,
      document,
      rootValue: graphqlRoot,
      variableValues: payload.variables ?? {},
    }) as ExecutionResult;
    if (!result.data && result.errors) {
      violations.push(
        `GraphQL variables rejected by GitHub's schema: ${result.errors.map((e) => e.message).join("; ")}`,
      );
    }
    const field = document.definitions
      .flatMap((d) => ("selectionSet" in d && d.selectionSet ? d.selectionSet.selections : []))
      .map((s) => ("name" in s && s.name ? s.name.value : ""))[0];
    return {
      status: 200,
      field,
      body: {
        ...(result.data !== undefined ? { data: result.data } : {}),
        ...(result.errors
          ? {
              errors: result.errors.map((e) => ({
                type: (e.originalError as { type?: string } | undefined)?.type ?? "INTERNAL",
                path: e.path,
                locations: e.locations,
                message: e.message,
              })),
            }
          : {}),
      },
    };
  };

  const handle = (req: Request): { reply: Reply; operation?: string } => {
    const auth = req.headers.authorization ?? "";
    const presented = /^(token|bearer) (.+)$/i.exec(auth)?.[2];
    if (req.method === "POST" && req.path === "/graphql") {
      if (presented !== token) return { reply: error(401, "Bad credentials"), operation: "graphql" };
      const reply = graphql(req);
      return { reply, operation: `graphql ${reply.field ?? ""}`.trim() };
    }
    const op = api.match(req.method, req.path);
    if (!op) {
      violations.push(`${req.method} ${req.path} is not an operation in GitHub's OpenAPI description`);
      return { reply: error(404, "Not Found") };
    }
    const hook = hooks.findIndex((h) => h.operationId === op.id);
    if (hook >= 0) hooks.splice(hook, 1)[0]!.action();
    let reply: Reply;
    if (presented !== token) {
      reply = error(401, "Bad credentials");
    } else {
      try {
        api.validateRequest(op, req.query, req.raw === "" ? undefined : req.json);
        reply = rest(op, req);
      } catch (err) {
        if (!(err instanceof OpenApiMismatch)) throw err;
        violations.push(err.message);
        reply = error(400, `OpenAPI mismatch: ${err.message}`);
      }
    }
    const tamper = tampers.findIndex((t) => t.operationId === op.id);
    if (tamper >= 0) {
      reply = { ...reply, body: tampers[tamper]!.mutate(structuredClone(reply.body)) };
      tampers.splice(tamper, 1);
    }
    try {
      api.validateResponse(op, reply.status, reply.body);
    } catch (err) {
      if (!(err instanceof OpenApiMismatch)) throw err;
      violations.push(err.message);
      reply = error(
        500,
        `the GitHub fake produced a response that does not match GitHub's description: ${err.message}`,
      );
    }
    return { reply, operation: op.id };
  };

  const onRequest = (incoming: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (c: Buffer) => chunks.push(c));
    incoming.on("end", () => {
      const parsed = new URL(incoming.url ?? "/", "http://fake");
      const raw = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = raw === "" ? undefined : JSON.parse(raw);
      } catch {
        json = undefined;
      }
      const req: Request = {
        method: incoming.method ?? "GET",
        path: parsed.pathname,
        query: Object.fromEntries(parsed.searchParams),
        headers: incoming.headers,
        raw,
        json,
      };
      const failure = failures.find(
        (f) =>
          f.remaining > 0 &&
          pathMatches(req.path, f.opts.path) &&
          (!f.opts.method || f.opts.method === req.method),
      );
      let reply: Reply;
      let operation: string | undefined;
      if (failure) {
        failure.remaining--;
        reply = {
          status: failure.status,
          headers: failure.opts.headers,
          body:
            failure.opts.body !== undefined
              ? JSON.parse(failure.opts.body)
              : { message: `injected HTTP ${failure.status}`, documentation_url: DOCS },
        };
        // Injected answers must look like GitHub's too (the documented error shape for the status).
        const op = req.path === "/graphql" ? undefined : api.match(req.method, req.path);
        operation = op?.id ?? (req.path === "/graphql" ? "graphql" : undefined);
        if (op) {
          try {
            api.validateResponse(op, reply.status, reply.body);
          } catch (err) {
            if (!(err instanceof OpenApiMismatch)) throw err;
            violations.push(`injected answer: ${err.message}`);
          }
        }
      } else {
        try {
          ({ reply, operation } = handle(req));
        } catch (err) {
          violations.push(`the GitHub fake crashed: ${(err as Error).stack}`);
          reply = error(500, "the GitHub fake crashed");
        }
      }
      requests.push({
        method: req.method,
        path: req.path,
        query: req.query,
        headers: req.headers,
        body: raw,
        operation,
        status: reply.status,
        injected: failure !== undefined,
      });
      const reset = String(Math.floor(Date.now() / 1000) + 3600);
      res.writeHead(reply.status, {
        "content-type": "application/json; charset=utf-8",
        "x-github-request-id": randomUUID().toUpperCase(),
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
        "x-ratelimit-reset": reset,
        "x-ratelimit-used": "1",
        "x-ratelimit-resource": req.path === "/graphql" ? "graphql" : "core",
        ...reply.headers,
      });
      res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
    });
  };

  const server = createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    owner,
    repo,
    token,
    defaultBranch,
    state,
    requests,
    violations,
    openApiVersion: api.version,
    failNext(status, o = {}) {
      failures.push({ status, remaining: o.count ?? 1, opts: o });
    },
    secondaryRateLimitNext(o = {}) {
      const status = o.status ?? 403;
      failures.push({
        status,
        remaining: o.count ?? 1,
        opts: {
          path: o.path,
          headers: { "retry-after": String(o.retryAfter ?? 1), "x-ratelimit-remaining": "4990" },
          body: JSON.stringify({
            message: SECONDARY_MESSAGE,
            documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
            status: String(status),
          }),
        },
      });
    },
    primaryRateLimitNext(o) {
      failures.push({
        status: 403,
        remaining: o.count ?? 1,
        opts: {
          path: o.path,
          headers: {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000",
            "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + o.resetIn),
          },
          body: JSON.stringify({
            message: "API rate limit exceeded for installation ID 1.",
            documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
            status: "403",
          }),
        },
      });
    },
    raceNext(o) {
      races.push({ ...o, remaining: o.count ?? 1 });
    },
    beforeNext(operationId, action) {
      hooks.push({ operationId, action });
    },
    openPull,
    tamperNext(operationId, mutate) {
      tampers.push({ operationId, mutate });
    },
    push,
    readFile(refOrSha, path) {
      const sha = store.commit(refOrSha) ? refOrSha : state.refs.get(`heads/${refOrSha}`);
      return sha ? store.readFile(sha, path) : undefined;
    },
    log(branch) {
      const out: Array<{ sha: string; message: string; parents: string[]; verified: boolean }> = [];
      let sha = state.refs.get(`heads/${branch}`);
      while (sha) {
        const c = store.commit(sha)!;
        out.push({ sha, message: c.message, parents: c.parents, verified: c.verified });
        sha = c.parents[0];
      }
      return out;
    },
    openPulls() {
      return state.pulls.filter((p) => p.state === "open");
    },
    close() {
      if (!server.listening) return Promise.resolve();
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((err) => {
          if (err) return reject(err);
          if (violations.length > 0) {
            return reject(
              new OpenApiMismatch(
                `the GitHub fake saw ${violations.length} violation(s):\n${violations.join("\n")}`,
              ),
            );
          }
          resolve();
        }),
      );
    },
  };
}

function githubError(type: string, message: string): GraphQLError {
  const err = new GraphQLError(message);
  return Object.assign(err, { type });
}

let schemaCache: GraphQLSchema | undefined;

/** GitHub's public GraphQL schema (from @octokit/graphql-schema), built once per process. */
export function githubGraphqlSchema(): GraphQLSchema {
  if (!schemaCache) {
    const sdl = readFileSync(
      new URL("./schema.graphql", import.meta.resolve("@octokit/graphql-schema")),
      "utf8",
    );
    schemaCache = buildSchema(sdl, { assumeValidSDL: true });
  }
  return schemaCache;
}

function pathMatches(path: string, filter: string | RegExp | undefined): boolean {
  if (filter === undefined) return true;
  return typeof filter === "string" ? path.includes(filter) : filter.test(path);
}
