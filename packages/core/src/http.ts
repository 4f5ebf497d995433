import { PlatformError } from "./errors.ts";
import type { Logger } from "./log.ts";

export interface RetryOptions {
  /** Total tries including the first (default 5). */
  maxAttempts?: number;
  /** Give up once this much time has passed since the first try (default 120 s). */
  deadlineMs?: number;
  /** First backoff step (default 500 ms); doubles each retry, full jitter. */
  baseDelayMs?: number;
  /** Cap on one wait, backoff or Retry-After (default 30 s). */
  maxDelayMs?: number;
  /** Per-attempt timeout (default 30 s). */
  attemptTimeoutMs?: number;
  /**
   * Whether the request may be repeated after the server could have acted on it (502/504,
   * connection reset). GET/HEAD/PUT/DELETE/OPTIONS are idempotent by default; 429 and 503 are
   * retried for every method because the server refused before acting.
   */
  idempotent?: boolean;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  log?: Logger;
}

const RETRY_ALWAYS = new Set([429, 503]);
const RETRY_IDEMPOTENT = new Set([502, 504]);
const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "EAI_AGAIN",
]);

/** Parses Retry-After (delta-seconds or HTTP-date) into milliseconds from `now`; undefined if absent or invalid. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP-date form names a month; without this, Date.parse reads "1.5" or "-1" as a date.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Jittered exponential backoff ("full jitter"): uniform in [0, min(max, base·2^attempt)]. */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  return Math.floor(random() * Math.min(max, base * 2 ** attempt));
}

function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * fetch with bounded retry: 429/503 always, 502/504 and connection resets when the request is
 * idempotent; honours Retry-After; stops at `maxAttempts` or the overall deadline, whichever
 * comes first, and then returns the last response (or throws a PlatformError for network faults).
 */
export async function fetchWithRetry(
  url: string | URL,
  init: RequestInit = {},
  opts: RetryOptions = {},
): Promise<Response> {
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const maxAttempts = opts.maxAttempts ?? 5;
  const deadline = now() + (opts.deadlineMs ?? 120_000);
  const base = opts.baseDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const method = (init.method ?? "GET").toUpperCase();
  const idempotent = opts.idempotent ?? IDEMPOTENT_METHODS.has(method);
  const target = redactUrl(url);

  for (let attempt = 0; ; attempt++) {
    let response: Response | undefined;
    let failure: unknown;
    try {
      // An attempt never outlives the overall deadline.
      const remaining = Math.max(1, deadline - now());
      const signal = AbortSignal.timeout(Math.min(opts.attemptTimeoutMs ?? 30_000, remaining));
      response = await doFetch(url, {
        ...init,
        signal: init.signal ? AbortSignal.any([init.signal, signal]) : signal,
      });
    } catch (err) {
      // The caller gave up: that is not a fault to retry.
      if (init.signal?.aborted) throw err;
      failure = err;
    }
    const last = attempt + 1 >= maxAttempts;
    let retryable: boolean;
    let wait: number;
    if (response) {
      retryable = RETRY_ALWAYS.has(response.status) || (idempotent && RETRY_IDEMPOTENT.has(response.status));
      if (!retryable || last) return response;
      const ra = parseRetryAfter(response.headers.get("retry-after"), now());
      wait = ra ?? backoffDelay(attempt, base, maxDelay, random);
      if (ra !== undefined && ra > maxDelay) {
        opts.log?.debug(`${method} ${target}: Retry-After ${ra} ms exceeds the ${maxDelay} ms cap`);
        return response;
      }
    } else {
      const code = networkCode(failure) ?? (isTimeout(failure) ? "ETIMEDOUT" : undefined);
      retryable = code !== undefined && (idempotent || code === "ECONNREFUSED");
      wait = backoffDelay(attempt, base, maxDelay, random);
      if (!retryable || last || now() + wait >= deadline) {
        throw new PlatformError(
          "HTTP_NETWORK",
          `${method} ${target} failed after ${attempt + 1} attempt(s): ${code ?? describe(failure)}`,
          {
            category: "environment",
            hint: "Check that the endpoint is reachable from this runner (proxy, private endpoint, firewall).",
            cause: failure,
          },
        );
      }
    }
    // Out of time: hand back the last answer rather than sleeping past the deadline.
    if (response && now() + wait >= deadline) return response;
    opts.log?.debug(
      `${method} ${target}: ${response ? `HTTP ${response.status}` : "connection failed"}, retry ${attempt + 1}/${maxAttempts - 1} in ${wait} ms`,
    );
    // Drain the body so the connection can be reused.
    await response?.body?.cancel().catch(() => {});
    await sleep(wait);
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The URL without query string or userinfo, safe for logs (queries may carry SAS tokens). */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "<invalid url>";
  }
}
