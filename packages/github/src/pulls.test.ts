import { inspect } from "node:util";
import { memoryLogger, PlatformError } from "@platform/core";
import { afterEach, describe, expect, it } from "vitest";
import { type GitHubFake, type GitHubFakeOptions, startGitHubFake } from "../../../test/fakes/github.ts";
import { createOctokit } from "./octokit.ts";
import {
  type BumpPullRequestRequest,
  type BumpPullRequestResult,
  type PullRequestUpsert,
  tokenWarning,
  upsertBumpPullRequest,
} from "./pulls.ts";

const OLD = `sha256:${"a".repeat(64)}`;
const NEW = `sha256:${"b".repeat(64)}`;
const NEWER = `sha256:${"c".repeat(64)}`;

const FILES = {
  "apps/orders/overlays/prod/kustomization.yaml": `images:\n  - name: acr.io/orders/api\n    digest: ${OLD}\n`,
  "apps/billing/overlays/prod/kustomization.yaml": `images:\n  - name: acr.io/billing/api\n    digest: ${OLD}\n`,
  "apps/orders/overlays/prod/values.yaml": `image:\n  repository: acr.io/orders/api\n  digest: ${OLD}\n`,
};
const ORDERS = "apps/orders/overlays/prod/kustomization.yaml";
const BILLING = "apps/billing/overlays/prod/kustomization.yaml";
const VALUES = "apps/orders/overlays/prod/values.yaml";

let fake: GitHubFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts: GitHubFakeOptions = {}): Promise<GitHubFake> {
  fake = await startGitHubFake({ files: FILES, ...opts });
  return fake;
}

function client(f: GitHubFake, log = memoryLogger(), retries?: number) {
  return {
    log,
    octokit: createOctokit({
      token: f.token,
      baseUrl: f.url,
      log,
      msPerSecond: 1,
      paceWrites: false,
      retries,
    }),
  };
}

function opened(res: BumpPullRequestResult): PullRequestUpsert {
  if (res.kind === "already-in-base") throw new Error("expected a pull request");
  return res;
}

/** A build that replaces the digest in the given files, read from whatever head it is handed. */
function bump(
  paths: string[],
  from: string,
  to: string,
  gate?: Promise<void>,
): BumpPullRequestRequest["build"] {
  return async (read) => {
    const out: Array<{ path: string; content: string }> = [];
    for (const path of paths) {
      const text = await read(path);
      if (text === undefined) throw new Error(`missing ${path}`);
      out.push({ path, content: text.replace(from, to) });
    }
    await gate;
    return out;
  };
}

function request(overrides: Partial<BumpPullRequestRequest> = {}): BumpPullRequestRequest {
  return {
    owner: "octo-org",
    repo: "config",
    branch: "platform/bump/prod/orders-api",
    title: "Bump orders/api in prod",
    body: "| file | old | new |\n|---|---|---|\n",
    labels: ["platform/bump", "env/prod"],
    message: "Bump acr.io/orders/api to sha256:bbbb in prod",
    build: bump([ORDERS], OLD, NEW),
    ...overrides,
  };
}

const deps = (log = memoryLogger()) => ({ log, sleep: async () => {}, random: () => 0.5 });

// The first fake in a worker parses GitHub's OpenAPI description (~10 MB of JSON): seconds on a loaded machine.
describe("upsertBumpPullRequest", { timeout: 30_000 }, () => {
  it("creates the branch, one verified commit on base and the pull request with labels", async () => {
    const f = await start();
    const { octokit, log } = client(f);
    const res = await upsertBumpPullRequest(octokit, request(), deps(log));
    expect(res).toMatchObject({ kind: "created", number: 1, created: true, updated: false, noop: false });
    expect(res.url).toBe("https://github.com/octo-org/config/pull/1");
    expect(res.changedFiles).toEqual([ORDERS]);
    const commits = f.log("platform/bump/prod/orders-api");
    expect(commits[0]!.sha).toBe(res.commitSha);
    expect(commits[0]!.parents).toEqual([f.state.refs.get("heads/main")]);
    expect(commits[0]!.verified).toBe(true);
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEW);
    expect(f.readFile("platform/bump/prod/orders-api", VALUES)).toBe(FILES[VALUES]);
    expect(f.readFile("main", ORDERS)).toContain(OLD);
    const [pr] = f.openPulls();
    expect(pr).toMatchObject({
      head: "platform/bump/prod/orders-api",
      base: "main",
      labels: ["platform/bump", "env/prod"],
    });
    // Only contents were uploaded that changed: one blob.
    expect(f.requests.filter((r) => r.operation === "git/create-blob")).toHaveLength(1);
  });

  it("is a no-op when the same bump runs again: no new commit, same pull request", async () => {
    const f = await start();
    const { octokit } = client(f);
    const first = await upsertBumpPullRequest(octokit, request(), deps());
    const writesBefore = f.requests.filter((r) => r.method !== "GET").length;
    const second = await upsertBumpPullRequest(octokit, request(), deps());
    expect(second).toMatchObject({ kind: "unchanged", noop: true, number: first.number, changedFiles: [] });
    expect(second.commitSha).toBeUndefined();
    expect(f.log("platform/bump/prod/orders-api")).toHaveLength(2);
    expect(f.state.commits.size).toBe(2);
    expect(f.requests.filter((r) => r.method !== "GET").length).toBe(writesBefore);
    expect(f.state.pulls).toHaveLength(1);
  });

  it("updates the same pull request with a new commit for a newer digest", async () => {
    const f = await start();
    const { octokit } = client(f);
    const first = await upsertBumpPullRequest(octokit, request(), deps());
    const second = await upsertBumpPullRequest(
      octokit,
      request({ title: "Bump orders/api in prod (cccc)", build: bump([ORDERS], NEW, NEWER) }),
      deps(),
    );
    expect(second).toMatchObject({ kind: "updated", updated: true, noop: false, number: first.number });
    expect(second.commitSha).not.toBe(first.commitSha);
    const commits = f.log("platform/bump/prod/orders-api");
    expect(commits[0]!.parents).toEqual([first.commitSha]);
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEWER);
    expect(f.state.pulls).toHaveLength(1);
    expect(f.state.pulls[0]!.title).toBe("Bump orders/api in prod (cccc)");
  });

  it("rebuilds a branch that fell behind base as one commit on the current base head", async () => {
    const f = await start();
    const { octokit } = client(f);
    await upsertBumpPullRequest(octokit, request(), deps());
    const main = f.push("main", { [BILLING]: FILES[BILLING].replace(OLD, NEWER) }, "billing bump merged");
    const again = await upsertBumpPullRequest(octokit, request(), deps());
    expect(again).toMatchObject({ kind: "updated", number: 1 });
    const [head] = f.log("platform/bump/prod/orders-api");
    expect(head!.parents).toEqual([main]);
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEW);
    expect(f.readFile("platform/bump/prod/orders-api", BILLING)).toContain(NEWER);
    // The rebuild is a conditional forced move (GraphQL updateRefs with beforeOid).
    expect(f.requests.some((r) => r.operation === "graphql updateRefs")).toBe(true);
  });

  it("carries over the branch's other changes when rebuilding, unless base changed the same file", async () => {
    const f = await start();
    const { octokit } = client(f);
    await upsertBumpPullRequest(octokit, request({ build: bump([ORDERS, VALUES], OLD, NEW) }), deps());
    f.push("main", { [BILLING]: "billing: changed on main\n" });
    // This run only produces the kustomization; the values.yaml edit on the branch must survive.
    await upsertBumpPullRequest(octokit, request({ build: bump([ORDERS], NEW, NEWER) }), deps());
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEWER);
    expect(f.readFile("platform/bump/prod/orders-api", VALUES)).toContain(NEW);
    expect(f.readFile("platform/bump/prod/orders-api", BILLING)).toBe("billing: changed on main\n");
  });

  it("proposes nothing when base already has the content, and closes a pull request that would revert it", async () => {
    const f = await start();
    const { octokit } = client(f);
    const none = await upsertBumpPullRequest(octokit, request({ build: bump([ORDERS], NEW, NEWER) }), deps());
    expect(none).toMatchObject({ kind: "already-in-base", noop: true });
    expect(none.number).toBeUndefined();
    expect(f.state.refs.has("heads/platform/bump/prod/orders-api")).toBe(false);

    await upsertBumpPullRequest(octokit, request(), deps());
    f.push("main", { [ORDERS]: FILES[ORDERS].replace(OLD, NEWER) }, "someone bumped by hand");
    const res = await upsertBumpPullRequest(octokit, request({ build: bump([ORDERS], OLD, NEWER) }), deps());
    expect(res).toMatchObject({ kind: "already-in-base", closedPullRequest: { number: 1 } });
    expect(f.openPulls()).toHaveLength(0);
  });

  it("lands two concurrent bumps of different images on the same base (different branches)", async () => {
    const f = await start();
    const a = client(f);
    const b = client(f);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const both = Promise.all([
      upsertBumpPullRequest(a.octokit, request({ build: bump([ORDERS], OLD, NEW, gate) }), deps()),
      upsertBumpPullRequest(
        b.octokit,
        request({
          branch: "platform/bump/prod/billing-api",
          title: "Bump billing",
          build: bump([BILLING], OLD, NEW, gate),
        }),
        deps(),
      ),
    ]);
    setTimeout(release, 50);
    const [ra, rb] = await both;
    expect(ra.number).not.toBe(rb.number);
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEW);
    expect(f.readFile("platform/bump/prod/billing-api", BILLING)).toContain(NEW);
    expect(f.openPulls()).toHaveLength(2);
  });

  it("loses no change when two pipelines write different files to the same branch at once", async () => {
    const f = await start();
    const a = client(f);
    const b = client(f);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let builds = 0;
    const counted =
      (build: BumpPullRequestRequest["build"]): BumpPullRequestRequest["build"] =>
      async (read, tree) => {
        builds++;
        if (builds === 2) release();
        return build(read, tree);
      };
    const [ra, rb] = await Promise.all([
      upsertBumpPullRequest(a.octokit, request({ build: counted(bump([ORDERS], OLD, NEW, gate)) }), deps()),
      upsertBumpPullRequest(b.octokit, request({ build: counted(bump([VALUES], OLD, NEW, gate)) }), deps()),
    ]);
    // Both read the same (missing) branch; one lost the create and rebuilt on the winner's head.
    expect(ra.attempts + rb.attempts).toBe(3);
    expect(builds).toBe(3);
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEW);
    expect(f.readFile("platform/bump/prod/orders-api", VALUES)).toContain(NEW);
    expect(f.log("platform/bump/prod/orders-api")).toHaveLength(3);
    expect(f.state.pulls).toHaveLength(1);
    expect(ra.number).toBe(rb.number);
  });

  it("retries after another pipeline moves the branch between the read and the ref update (422)", async () => {
    const f = await start();
    const { octokit } = client(f);
    await upsertBumpPullRequest(octokit, request(), deps());
    f.raceNext({
      branch: "platform/bump/prod/orders-api",
      files: { "apps/orders/overlays/prod/extra.yaml": "x: 1\n" },
    });
    const res = await upsertBumpPullRequest(octokit, request({ build: bump([ORDERS], NEW, NEWER) }), deps());
    expect(res.attempts).toBe(2);
    const rejected = f.requests.find((r) => r.operation === "git/update-ref" && r.status === 422);
    expect(rejected).toBeDefined();
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEWER);
    expect(f.readFile("platform/bump/prod/orders-api", "apps/orders/overlays/prod/extra.yaml")).toBe(
      "x: 1\n",
    );
  });

  it("retries an injected 422 'Update is not a fast forward' and a 409", async () => {
    const f = await start();
    const { octokit } = client(f);
    await upsertBumpPullRequest(octokit, request(), deps());
    f.failNext(422, {
      method: "PATCH",
      path: "/git/refs/heads",
      body: JSON.stringify({
        message: "Update is not a fast forward",
        documentation_url: "https://docs.github.com/rest",
      }),
    });
    f.failNext(409, { method: "PATCH", path: "/git/refs/heads" });
    const res = await upsertBumpPullRequest(octokit, request({ build: bump([ORDERS], NEW, NEWER) }), deps());
    expect(res.attempts).toBe(3);
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEWER);
  });

  it("retries a rebuild whose conditional move lost the race (updateRefs beforeOid)", async () => {
    const f = await start();
    const { octokit } = client(f);
    await upsertBumpPullRequest(octokit, request(), deps());
    f.push("main", { [BILLING]: "moved\n" });
    f.raceNext({
      branch: "platform/bump/prod/orders-api",
      files: { "apps/orders/overlays/prod/extra.yaml": "x: 1\n" },
    });
    const res = await upsertBumpPullRequest(octokit, request(), deps());
    expect(res.attempts).toBe(2);
    const [head] = f.log("platform/bump/prod/orders-api");
    expect(head!.parents).toEqual([f.state.refs.get("heads/main")]);
    expect(f.readFile("platform/bump/prod/orders-api", "apps/orders/overlays/prod/extra.yaml")).toBe(
      "x: 1\n",
    );
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEW);
  });

  it("gives up with a clear PlatformError when the branch keeps moving", async () => {
    const f = await start();
    const { octokit } = client(f);
    await upsertBumpPullRequest(octokit, request(), deps());
    f.raceNext({ branch: "platform/bump/prod/orders-api", files: { "other.yaml": "x\n" }, count: 10 });
    const err = await upsertBumpPullRequest(octokit, request({ build: bump([ORDERS], NEW, NEWER) }), {
      ...deps(),
      maxAttempts: 3,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: "GITHUB_BRANCH_RACE", category: "environment" });
  });

  it("updates the pull request another run opened between the lookup and the create (422 already exists)", async () => {
    const f = await start();
    const { octokit } = client(f);
    f.beforeNext("pulls/create", () => {
      f.openPull({ head: "platform/bump/prod/orders-api", base: "main", title: "opened by the other run" });
    });
    const res = await upsertBumpPullRequest(octokit, request(), deps());
    expect(res).toMatchObject({ kind: "updated", number: 1 });
    expect(f.requests.some((r) => r.operation === "pulls/create" && r.status === 422)).toBe(true);
    expect(f.state.pulls).toHaveLength(1);
    expect(f.state.pulls[0]!.title).toBe("Bump orders/api in prod");
  });

  it("retries secondary rate limits (403 and 429 with retry-after) and 5xx", async () => {
    const f = await start();
    const { octokit, log } = client(f);
    f.secondaryRateLimitNext({ path: "/git/blobs", retryAfter: 2 });
    f.secondaryRateLimitNext({ status: 429, path: /\/pulls$/, retryAfter: 1 });
    f.failNext(502, { path: "/git/trees", count: 2 });
    f.failNext(503, { path: "/git/commits" });
    const res = await upsertBumpPullRequest(octokit, request(), deps(log));
    expect(res.kind).toBe("created");
    const injected = f.requests.filter((r) => r.injected).map((r) => r.status);
    expect(injected.sort()).toEqual([403, 429, 502, 502, 503]);
    expect(log.lines.some((l) => /secondary rate limit/.test(l.line))).toBe(true);
  });

  it("fails with an environment PlatformError on a primary rate limit far from its reset", async () => {
    const f = await start();
    const { octokit } = client(f);
    f.primaryRateLimitNext({ resetIn: 3600 });
    const err = await upsertBumpPullRequest(octokit, request(), deps()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "GITHUB_RATE_LIMITED", category: "environment" });
  });

  it("waits for a primary rate limit that resets soon", async () => {
    const f = await start();
    const { octokit } = client(f);
    f.primaryRateLimitNext({ resetIn: 2 });
    const res = await upsertBumpPullRequest(octokit, request(), deps());
    expect(res.kind).toBe("created");
  });

  it("names contents: write when the token cannot push", async () => {
    const f = await start({ permissions: { contents: "read" } });
    const { octokit } = client(f);
    const err = await upsertBumpPullRequest(octokit, request(), deps()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "GITHUB_PERMISSION_DENIED", category: "environment", input: "token" });
    expect((err as Error).message).toContain("contents: write");
  });

  it("names pull-requests: write when the token cannot open the pull request", async () => {
    const f = await start({ permissions: { pullRequests: "read" } });
    const { octokit } = client(f);
    const err = await upsertBumpPullRequest(octokit, request(), deps()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "GITHUB_PERMISSION_DENIED" });
    expect((err as Error).message).toContain("pull-requests: write");
  });

  it("explains the Actions setting when GITHUB_TOKEN may not open pull requests", async () => {
    const f = await start({ githubActionsToken: true, actionsCanCreatePullRequests: false });
    const { octokit } = client(f);
    const err = await upsertBumpPullRequest(octokit, request(), deps()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "GITHUB_ACTIONS_CANNOT_OPEN_PULL_REQUESTS" });
    expect((err as PlatformError).hint).toContain("create-github-app-token");
  });

  it("reports a missing repository as such", async () => {
    const f = await start();
    const { octokit } = client(f);
    const err = await upsertBumpPullRequest(octokit, request({ repo: "nope" }), deps()).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "GITHUB_REPO_NOT_FOUND", input: "config-repo" });
  });

  it("enables auto-merge, and reports enabled:false with a reason when the repository does not allow it", async () => {
    const f = await start();
    const { octokit } = client(f);
    const res = opened(await upsertBumpPullRequest(octokit, request({ autoMerge: "squash" }), deps()));
    expect(res.autoMerge).toEqual({ enabled: true });
    expect(f.state.pulls[0]!.autoMerge?.method).toBe("SQUASH");
    await f.close();

    const g = await start({ allowAutoMerge: false });
    const c = client(g);
    const off = opened(await upsertBumpPullRequest(c.octokit, request({ autoMerge: "merge" }), deps(c.log)));
    expect(off.kind).toBe("created");
    expect(off.autoMerge?.enabled).toBe(false);
    expect(off.autoMerge?.reason).toMatch(/does not allow auto-merge.*Allow auto-merge/);
    expect(c.log.lines.some((l) => l.level === "warn" && /auto-merge not enabled/.test(l.line))).toBe(true);
  });

  it("never lets the token reach logs or errors", async () => {
    const f = await start({ permissions: { contents: "read" } });
    const log = memoryLogger();
    const { octokit } = client(f, log);
    f.secondaryRateLimitNext({ path: "/git/ref/", retryAfter: 1 });
    f.failNext(500, { path: "/repos/octo-org/config", count: 1 });
    const err = await upsertBumpPullRequest(octokit, request(), deps(log)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    const everything = [
      ...log.lines.map((l) => l.line),
      (err as PlatformError).describe(),
      inspect(err, { depth: 8 }),
      JSON.stringify(err),
    ].join("\n");
    expect(everything).not.toContain(f.token);
    expect(log.masker.mask(`x ${f.token} y`)).toBe("x *** y");
    // The token did travel, in the Authorization header only.
    expect(f.requests.every((r) => r.headers.authorization === `token ${f.token}`)).toBe(true);
  });

  it("rejects invalid branch names and unsafe paths from the build", async () => {
    const f = await start();
    const { octokit } = client(f);
    await expect(
      upsertBumpPullRequest(octokit, request({ branch: "bad..name" }), deps()),
    ).rejects.toMatchObject({
      code: "GITHUB_BAD_BRANCH",
    });
    await expect(
      upsertBumpPullRequest(
        octokit,
        request({ build: async () => [{ path: "../escape.yaml", content: "x" }] }),
        deps(),
      ),
    ).rejects.toMatchObject({ code: "GITHUB_BAD_PATH" });
  });

  it("hands build a tree reader that lists files at the head it reads", async () => {
    const f = await start();
    const { octokit } = client(f);
    let listed: string[] = [];
    await upsertBumpPullRequest(
      octokit,
      request({
        build: async (read, tree) => {
          listed = await tree.list("apps/orders");
          return bump([ORDERS], OLD, NEW)(read, tree);
        },
      }),
      deps(),
    );
    expect(listed).toEqual([ORDERS, VALUES]);
  });
});

describe("upsertBumpPullRequest on a tree too large for one listing", () => {
  it("walks directories when GitHub truncates the recursive tree", async () => {
    const f = await start({ maxTreeEntries: 2 });
    const { octokit } = client(f);
    let listed: string[] = [];
    const res = await upsertBumpPullRequest(
      octokit,
      request({
        build: async (read, tree) => {
          listed = await tree.list("apps/orders/overlays");
          return bump([ORDERS], OLD, NEW)(read, tree);
        },
      }),
      deps(),
    );
    expect(res.kind).toBe("created");
    expect(listed).toEqual([ORDERS, VALUES]);
    expect(f.readFile("platform/bump/prod/orders-api", ORDERS)).toContain(NEW);
    expect(f.requests.some((r) => r.operation === "git/get-tree" && r.query.recursive === undefined)).toBe(
      true,
    );
  });
});

describe("tokenWarning", () => {
  it("warns about GITHUB_TOKEN and points at a GitHub App token", () => {
    const w = tokenWarning("github-token");
    expect(w).toMatch(/does not start workflows/);
    expect(w).toMatch(/actions\/create-github-app-token/);
    expect(tokenWarning("github-app")).toBeUndefined();
    expect(tokenWarning("personal")).toMatch(/not signed/);
  });
});

describe("the GitHub fake", () => {
  it("rejects a request body that does not match GitHub's OpenAPI description", async () => {
    const f = await start();
    const res = await fetch(`${f.url}/repos/octo-org/config/pulls`, {
      method: "POST",
      headers: { authorization: `token ${f.token}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "no head", base: "main" }),
    });
    expect(res.status).toBe(400);
    expect(f.violations).toHaveLength(1);
    expect(f.violations[0]).toMatch(/pulls\/create.*must have required property 'head'/);
    f.violations.length = 0;
  });

  it("rejects a response whose shape does not match GitHub's description", async () => {
    const f = await start();
    // No retries: the fake answers a 500 for its own bad response, and a retry would get a good one.
    const { octokit } = client(f, memoryLogger(), 0);
    f.tamperNext("repos/get", (body) => ({ ...(body as object), default_branch: 42 }));
    const err = await octokit
      .request("GET /repos/{owner}/{repo}", { owner: "octo-org", repo: "config" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500 });
    expect(f.violations.join("\n")).toMatch(/repos\/get\) 200 response: \/default_branch must be string/);
    f.violations.length = 0;
  });

  it("rejects an undocumented query parameter and a GraphQL query outside GitHub's schema", async () => {
    const f = await start();
    const { octokit } = client(f);
    await octokit
      .request("GET /repos/{owner}/{repo}/pulls", { owner: "octo-org", repo: "config", sort_by: "x" })
      .catch(() => {});
    await octokit
      .graphql(
        'mutation { enablePullRequestAutoMerge(input: { pullRequestId: "x", mergeStyle: SQUASH }) { clientMutationId } }',
      )
      .catch(() => {});
    expect(f.violations).toHaveLength(2);
    expect(f.violations[0]).toMatch(/unknown query parameter "sort_by"/);
    expect(f.violations[1]).toMatch(/mergeStyle/);
    f.violations.length = 0;
  });

  it("fails close() when a violation was left unexamined", async () => {
    const f = await startGitHubFake();
    await fetch(`${f.url}/repos/octo-org/config/git/refs`, {
      method: "POST",
      headers: { authorization: `token ${f.token}` },
      body: JSON.stringify({ sha: "abc" }),
    });
    await expect(f.close()).rejects.toThrow(/violation/);
  });
});
