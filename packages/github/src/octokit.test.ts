import { memoryLogger } from "@platform/core";
import { afterEach, describe, expect, it } from "vitest";
import { type GitHubFake, startGitHubFake } from "../../../test/fakes/github.ts";
import { createOctokit } from "./octokit.ts";

let fake: GitHubFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(opts: { retries?: number; maxWaitSeconds?: number } = {}) {
  fake = await startGitHubFake();
  const log = memoryLogger();
  const octokit = createOctokit({
    token: fake.token,
    baseUrl: fake.url,
    log,
    msPerSecond: 1,
    paceWrites: false,
    userAgent: "platform-test",
    ...opts,
  });
  const getRepo = () => octokit.request("GET /repos/{owner}/{repo}", { owner: "octo-org", repo: "config" });
  return { f: fake, log, octokit, getRepo };
}

describe("createOctokit", () => {
  it("registers the token with the logger's masker and sends it only as the Authorization header", async () => {
    const { f, log, getRepo } = await setup();
    expect(log.masker.mask(`Bearer ${f.token}`)).toBe("Bearer ***");
    await getRepo();
    expect(f.requests[0]!.headers.authorization).toBe(`token ${f.token}`);
    expect(f.requests[0]!.headers["user-agent"]).toMatch(/^platform-test /);
  });

  it("retries 5xx a bounded number of times, then surfaces the error", async () => {
    const { f, getRepo } = await setup({ retries: 2 });
    f.failNext(502, { count: 2 });
    expect((await getRepo()).status).toBe(200);
    f.failNext(500, { count: 5 });
    await expect(getRepo()).rejects.toMatchObject({ status: 500 });
    expect(f.requests.filter((r) => r.status === 500)).toHaveLength(3);
  });

  it("does not retry answers that need a decision (409, 422)", async () => {
    const { f, getRepo } = await setup();
    f.failNext(409);
    await expect(getRepo()).rejects.toMatchObject({ status: 409 });
    f.failNext(422);
    await expect(getRepo()).rejects.toMatchObject({ status: 422 });
    expect(f.requests).toHaveLength(2);
  });

  it("retries secondary rate limits (403 and 429) after retry-after, bounded by retries", async () => {
    const { f, log, getRepo } = await setup({ retries: 2 });
    f.secondaryRateLimitNext({ retryAfter: 3 });
    f.secondaryRateLimitNext({ status: 429, retryAfter: 1 });
    expect((await getRepo()).status).toBe(200);
    expect(log.lines.filter((l) => l.level === "warn" && /secondary rate limit/.test(l.line))).toHaveLength(
      2,
    );
    f.secondaryRateLimitNext({ count: 5 });
    await expect(getRepo()).rejects.toMatchObject({
      code: "GITHUB_SECONDARY_RATE_LIMIT",
      category: "environment",
    });
  });

  it("fails at once when a secondary limit asks for a longer wait than allowed", async () => {
    const { f, getRepo } = await setup({ maxWaitSeconds: 30 });
    f.secondaryRateLimitNext({ retryAfter: 600 });
    await expect(getRepo()).rejects.toMatchObject({ code: "GITHUB_SECONDARY_RATE_LIMIT" });
    expect(f.requests).toHaveLength(1);
  });

  it("waits for a primary limit that resets soon and fails clearly for one that does not", async () => {
    const { f, getRepo } = await setup({ maxWaitSeconds: 60 });
    f.primaryRateLimitNext({ resetIn: 5 });
    expect((await getRepo()).status).toBe(200);
    f.primaryRateLimitNext({ resetIn: 3600 });
    const err = await getRepo().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "GITHUB_RATE_LIMITED", category: "environment" });
    expect((err as Error).message).toMatch(/resets at \d{4}-\d\d-\d\dT/);
  });

  it("reaches GraphQL at <baseUrl>/graphql", async () => {
    const { f, octokit } = await setup();
    const err = await octokit
      .graphql(
        `mutation($id: ID!) { enablePullRequestAutoMerge(input: { pullRequestId: $id }) { clientMutationId } }`,
        {
          id: "PR_missing",
        },
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Could not resolve to a node/);
    expect(f.requests[0]!.path).toBe("/graphql");
  });
});
