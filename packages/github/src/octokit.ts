import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { type Logger, PlatformError } from "@platform/core";
import type BottleneckType from "bottleneck";
// The light build (the one the throttling plugin itself uses) leaves out Redis clustering, whose
// optional requires would break the bundle; it ships no types of its own, hence the cast below.
// @ts-expect-error no declaration file for bottleneck/light.js
import BottleneckLight from "bottleneck/light.js";

const Bottleneck = BottleneckLight as unknown as typeof BottleneckType;

const PlatformOctokit = Octokit.plugin(retry, throttling);

/** The GitHub client every platform call takes: @octokit/core with retry and throttling. */
export type GitHubClient = InstanceType<typeof PlatformOctokit>;

export interface CreateOctokitOptions {
  token: string;
  /** REST base URL (GitHub Enterprise Server: `https://<host>/api/v3`); GraphQL is derived from it. */
  baseUrl?: string;
  log: Logger;
  userAgent?: string;
  /** Retries after a 5xx or network failure, and after a secondary rate limit (default 3). */
  retries?: number;
  /** Longest wait for a rate limit, primary reset or Retry-After, before failing (default 120 s). */
  maxWaitSeconds?: number;
  /** Milliseconds per second of every wait: 1000 normally; tests pass 1 to run the same logic fast. */
  msPerSecond?: number;
  /**
   * Pace writes as GitHub asks (at least one second between mutating requests, three around
   * notifications such as opening a PR), shared by every client in the process. Default true;
   * off, each client gets its own unpaced queues.
   */
  paceWrites?: boolean;
  fetch?: typeof fetch;
}

// 409/422 are answers to act on (a race, a validation), 429/403 belong to the throttling plugin:
// retrying them blindly here would double the waits or hide a verdict.
const DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 422, 429, 451];

/** Creates the GitHub client: masked token, bounded retry of 5xx and secondary limits, clear rate-limit errors. */
export function createOctokit(opts: CreateOctokitOptions): GitHubClient {
  const { log } = opts;
  log.secret(opts.token);
  const retries = opts.retries ?? 3;
  const maxWait = opts.maxWaitSeconds ?? 120;
  const scale = opts.msPerSecond ?? 1000;
  const unpaced =
    opts.paceWrites === false
      ? {
          write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
          notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
          search: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
        }
      : {};
  const octokit = new PlatformOctokit({
    auth: opts.token,
    baseUrl: opts.baseUrl,
    userAgent: opts.userAgent ?? "platform-toolkit",
    log: {
      debug: (m: string) => log.debug(m),
      info: (m: string) => log.debug(m),
      warn: (m: string) => log.warn(m),
      error: (m: string) => log.error(m),
    },
    request: opts.fetch ? { fetch: opts.fetch } : {},
    retry: { retries, doNotRetry: DO_NOT_RETRY, retryAfterBaseValue: scale },
    throttle: {
      retryAfterBaseValue: scale,
      ...unpaced,
      onRateLimit: (retryAfter, options, _octokit, retryCount) => {
        const what = `${options.method} ${options.url}`;
        if (retryCount < 1 && retryAfter <= maxWait) {
          log.warn(`GitHub API rate limit reached (${what}); waiting ${retryAfter} s for the reset`);
          return true;
        }
        log.debug(`GitHub API rate limit reached (${what}); the reset is ${retryAfter} s away, not waiting`);
        return false;
      },
      onSecondaryRateLimit: (retryAfter, options, _octokit, retryCount) => {
        const what = `${options.method} ${options.url}`;
        if (retryCount < retries && retryAfter <= maxWait) {
          log.warn(
            `GitHub secondary rate limit (${what}); retrying in ${retryAfter} s (retry ${retryCount + 1}/${retries})`,
          );
          return true;
        }
        return false;
      },
    },
  });
  // Registered after the plugins, so it sees what is left once they have retried or given up.
  octokit.hook.error("request", (error) => {
    throw rateLimitError(error, maxWait) ?? error;
  });
  return octokit;
}

/** A PlatformError for a rate-limit answer the plugins gave up on; undefined for anything else. */
function rateLimitError(error: unknown, maxWait: number): PlatformError | undefined {
  const e = error as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, string | undefined> };
  };
  if (e.status !== 403 && e.status !== 429) return undefined;
  const headers = e.response?.headers ?? {};
  if (/secondary rate/i.test(e.message ?? "")) {
    return new PlatformError(
      "GITHUB_SECONDARY_RATE_LIMIT",
      `GitHub kept refusing requests with a secondary rate limit (retry-after ${headers["retry-after"] ?? "unset"} s)`,
      {
        category: "environment",
        hint: "too many concurrent or rapid writes to GitHub; re-run later, or spread the pipelines that bump this config repo",
        cause: error,
      },
    );
  }
  if (headers["x-ratelimit-remaining"] === "0" || e.status === 429) {
    const reset = Number(headers["x-ratelimit-reset"]);
    const at = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : "unknown";
    return new PlatformError(
      "GITHUB_RATE_LIMITED",
      `GitHub's API rate limit for this token is exhausted (resource ${headers["x-ratelimit-resource"] ?? "core"}, resets at ${at})`,
      {
        category: "environment",
        hint: `the reset is more than ${maxWait} s away; re-run after it, or use a GitHub App installation token, whose limit grows with the organisation`,
        cause: error,
      },
    );
  }
  return undefined;
}
