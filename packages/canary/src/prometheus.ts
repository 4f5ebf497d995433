import {
  createLogger,
  errorMessage,
  fetchWithRetry,
  type Logger,
  PlatformError,
  type RetryOptions,
  redactUrl,
} from "@platform/core";

/** Entra scope of Azure Monitor managed Prometheus query endpoints (role: Monitoring Data Reader). */
export const AZURE_MONITOR_PROMETHEUS_SCOPE = "https://prometheus.monitor.azure.com/.default";

/** The part of @azure/core-auth's TokenCredential we use; @platform/azure's credentials fit it. */
export interface TokenCredentialLike {
  getToken(
    scopes: string | string[],
    options?: Record<string, unknown>,
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/** How requests authenticate: not at all, a fixed bearer token, or an Entra token for managed Prometheus. */
export type PrometheusAuth =
  | { type: "none" }
  | { type: "bearer"; token: string }
  | { type: "azure"; credential: TokenCredentialLike; scope?: string };

export interface PrometheusClientOptions {
  /** Base URL of the server or query endpoint, e.g. http://prometheus:9090 or https://<ws>.<region>.prometheus.monitor.azure.com. */
  url: string;
  auth?: PrometheusAuth;
  log?: Logger;
  fetch?: typeof fetch;
  /** Retry policy for 429/5xx (queries are read-only, so every retryable status is retried). */
  retry?: Omit<RetryOptions, "fetch" | "log" | "idempotent">;
  /** Server-side evaluation timeout sent as `timeout` (default 30 s). */
  timeoutSeconds?: number;
}

/** One sample value: a finite number, NaN, or ±Infinity, exactly as Prometheus reported it. */
export interface Point {
  /** Unix time in milliseconds. */
  t: number;
  v: number;
}

export interface InstantSample {
  labels: Record<string, string>;
  t: number;
  v: number;
}

export interface RangeSeries {
  labels: Record<string, string>;
  points: Point[];
}

/** The `data` of a successful query; an empty `vector`/`matrix` means no series matched (not NaN). */
export type QueryData =
  | { resultType: "vector"; result: InstantSample[] }
  | { resultType: "matrix"; result: RangeSeries[] }
  | { resultType: "scalar"; result: Point }
  | { resultType: "string"; result: { t: number; v: string } };

export interface QueryResult {
  data: QueryData;
  /** Warnings the server attached (partial data, dropped series); never silently dropped. */
  warnings: string[];
  infos: string[];
}

export interface RangeOptions {
  start: Date | number;
  end: Date | number;
  stepSeconds: number;
}

/** Prometheus HTTP API v1 over POST forms. */
export interface PrometheusClient {
  readonly url: string;
  query(promql: string, opts?: { time?: Date | number }): Promise<QueryResult>;
  queryRange(promql: string, range: RangeOptions): Promise<QueryResult>;
}

/** Creates a client for `/api/v1/query` and `/api/v1/query_range`; see PrometheusClientOptions. */
export function createPrometheusClient(opts: PrometheusClientOptions): PrometheusClient {
  const base = normaliseBaseUrl(opts.url);
  const log = opts.log ?? createLogger({ write() {} });
  const auth = opts.auth ?? { type: "none" };
  if (auth.type === "bearer") log.secret(auth.token);
  const tokens = auth.type === "azure" ? new TokenCache(auth.credential, auth.scope, log) : undefined;
  const timeout = `${opts.timeoutSeconds ?? 30}s`;

  const post = async (path: string, form: Record<string, string>): Promise<QueryResult> => {
    const url = `${base}${path}`;
    const send = async (forceToken: boolean) => {
      const headers: Record<string, string> = {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      };
      if (auth.type === "bearer") headers.authorization = `Bearer ${auth.token}`;
      if (tokens) headers.authorization = `Bearer ${await tokens.get(forceToken)}`;
      return fetchWithRetry(
        url,
        { method: "POST", headers, body: new URLSearchParams({ ...form, timeout }).toString() },
        // A query changes nothing on the server, so 502/504 and resets are safe to repeat.
        { ...opts.retry, idempotent: true, fetch: opts.fetch, log },
      );
    };
    let response = await send(false);
    // A cached token can be revoked or expire early; one fresh token is worth a second try.
    if (response.status === 401 && tokens) {
      await response.body?.cancel().catch(() => {});
      response = await send(true);
    }
    return parseResponse(response, url, form.query ?? "", log);
  };

  return {
    url: base,
    async query(promql, q = {}) {
      const form: Record<string, string> = { query: promql };
      if (q.time !== undefined) form.time = unixSeconds(q.time);
      return post("/api/v1/query", form);
    },
    async queryRange(promql, range) {
      if (!(range.stepSeconds > 0)) {
        throw new PlatformError(
          "PROM_RANGE_INVALID",
          `Range query step must be positive, got ${range.stepSeconds}`,
        );
      }
      return post("/api/v1/query_range", {
        query: promql,
        start: unixSeconds(range.start),
        end: unixSeconds(range.end),
        step: String(range.stepSeconds),
      });
    },
  };
}

/** Parses a Prometheus sample value: decimal, `NaN`, `+Inf`, `-Inf` (JSON carries them as strings). */
export function parseSampleValue(raw: unknown): number {
  if (typeof raw !== "string") throw badShape(`sample value ${JSON.stringify(raw)} is not a string`);
  switch (raw) {
    case "NaN":
      return Number.NaN;
    case "+Inf":
    case "Inf":
      return Number.POSITIVE_INFINITY;
    case "-Inf":
      return Number.NEGATIVE_INFINITY;
  }
  const v = Number(raw);
  if (raw.trim() === "" || Number.isNaN(v))
    throw badShape(`sample value "${raw.slice(0, 40)}" is not a number`);
  return v;
}

class TokenCache {
  private token: { token: string; expiresOnTimestamp: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly credential: TokenCredentialLike;
  private readonly scope: string;
  private readonly log: Logger;

  constructor(credential: TokenCredentialLike, scope: string | undefined, log: Logger) {
    this.credential = credential;
    this.scope = scope ?? AZURE_MONITOR_PROMETHEUS_SCOPE;
    this.log = log;
  }

  /** A cached token until two minutes before expiry; concurrent queries share one request. */
  async get(force: boolean): Promise<string> {
    // Some credentials (GitHub OIDC federation) fetch a new assertion on every getToken; reuse until near expiry.
    if (!force && this.token && this.token.expiresOnTimestamp - Date.now() > 120_000) return this.token.token;
    if (this.pending) return this.pending;
    this.pending = this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<string> {
    let token: { token: string; expiresOnTimestamp: number } | null;
    try {
      token = await this.credential.getToken(this.scope);
    } catch (err) {
      if (err instanceof PlatformError) throw err;
      throw new PlatformError(
        "PROM_AUTH_TOKEN",
        `Could not get an Entra token for ${this.scope}: ${this.log.masker.mask(errorMessage(err))}`,
        {
          category: "environment",
          hint: "Sign in to Azure (workload identity, az login or GitHub OIDC) with an identity that holds Monitoring Data Reader on the Azure Monitor workspace.",
          cause: err,
        },
      );
    }
    if (!token?.token) {
      throw new PlatformError("PROM_AUTH_TOKEN", `The Azure credential returned no token for ${this.scope}`, {
        category: "environment",
        hint: "Check the credential's configuration (AZURE_CLIENT_ID, AZURE_TENANT_ID, federated credential).",
      });
    }
    this.log.secret(token.token);
    this.token = token;
    return token.token;
  }
}

function normaliseBaseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new PlatformError("PROM_URL_INVALID", `"${raw}" is not a URL`, {
      input: "prometheus-url",
      hint: "Give the Prometheus base URL, e.g. http://prometheus.monitoring:9090 or the query endpoint of an Azure Monitor workspace.",
    });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new PlatformError("PROM_URL_INVALID", `Prometheus URL must be http(s), got ${u.protocol}`, {
      input: "prometheus-url",
      hint: "Use http:// or https:// (file:// selects the OpenMetrics replay source).",
    });
  }
  if (u.username || u.password) {
    throw new PlatformError("PROM_URL_INVALID", "The Prometheus URL must not carry credentials", {
      input: "prometheus-url",
      hint: "Pass tokens through the auth option, never inside the URL.",
    });
  }
  // Users paste the full API path as often as the base; accept both.
  const path = u.pathname.replace(/\/+$/, "").replace(/\/api\/v1(\/query(_range)?)?$/, "");
  return `${u.protocol}//${u.host}${path}`;
}

function unixSeconds(t: Date | number): string {
  const ms = typeof t === "number" ? t : t.getTime();
  if (!Number.isFinite(ms)) throw new PlatformError("PROM_TIME_INVALID", "Query time is not a valid date");
  return String(ms / 1000);
}

interface Envelope {
  status?: unknown;
  data?: unknown;
  errorType?: unknown;
  error?: unknown;
  warnings?: unknown;
  infos?: unknown;
}

async function parseResponse(
  response: Response,
  url: string,
  promql: string,
  log: Logger,
): Promise<QueryResult> {
  const text = await response.text().catch(() => "");
  let body: Envelope | undefined;
  try {
    body = JSON.parse(text) as Envelope;
  } catch {
    body = undefined;
  }
  const where = redactUrl(url);
  if (response.ok && body?.status === "success") {
    return {
      data: parseData(body.data),
      warnings: stringList(body.warnings),
      infos: stringList(body.infos),
    };
  }
  const errorType = typeof body?.errorType === "string" ? body.errorType : undefined;
  const detail = log.masker.mask(
    typeof body?.error === "string" ? body.error : text.replace(/\s+/g, " ").trim().slice(0, 200),
  );
  const query = promql.length > 300 ? `${promql.slice(0, 300)}…` : promql;
  const say = (what: string) =>
    `${what} (HTTP ${response.status}${errorType ? `, ${errorType}` : ""} from ${where})${detail ? `: ${detail}` : ""}`;
  switch (response.status) {
    case 400:
      return fail(
        "PROM_BAD_QUERY",
        say("Prometheus rejected the query"),
        "usage",
        `Check the PromQL: ${query}`,
      );
    case 401:
      return fail(
        "PROM_UNAUTHORIZED",
        say("Prometheus refused the credentials"),
        "environment",
        "Azure Monitor managed Prometheus needs an Entra token for https://prometheus.monitor.azure.com/.default; check the identity and tenant.",
      );
    case 403:
      return fail(
        "PROM_FORBIDDEN",
        say("The identity may not query this Prometheus"),
        "environment",
        "Grant the identity the Monitoring Data Reader role on the Azure Monitor workspace (role assignments can take minutes to apply).",
      );
    case 404:
      return fail(
        "PROM_NOT_FOUND",
        say("No Prometheus query API at this URL"),
        "usage",
        "Use the server's base URL (for Azure Monitor, the workspace's Query endpoint) without /api/v1.",
      );
    case 422:
      return fail(
        "PROM_EXECUTION",
        say("Prometheus could not evaluate the query"),
        "environment",
        errorType === "timeout"
          ? "The query timed out; use a longer interval or a shorter max-duration."
          : `The query is valid but failed to run (e.g. too many samples or series); narrow it: ${query}`,
      );
    case 429:
      return fail(
        "PROM_THROTTLED",
        say("Prometheus kept throttling the query after retries"),
        "environment",
        "Azure Monitor limits query rates per workspace; evaluate less often (a longer interval).",
      );
    case 503:
      return fail(
        "PROM_UNAVAILABLE",
        say("Prometheus was unavailable after retries"),
        "environment",
        errorType === "timeout"
          ? "The query timed out on the server; use a longer interval or a shorter max-duration."
          : "The server is overloaded or starting up; retry later.",
      );
  }
  if (response.status >= 500) {
    return fail(
      "PROM_SERVER_ERROR",
      say("Prometheus failed"),
      "environment",
      "Retry later; check the server's logs.",
    );
  }
  return fail(
    "PROM_BAD_RESPONSE",
    say("Prometheus answered unexpectedly"),
    "environment",
    "Check that the URL points at a Prometheus-compatible query API and not at a login page or proxy.",
  );
}

function fail(code: string, message: string, category: "usage" | "environment", hint: string): never {
  throw new PlatformError(code, message, {
    category,
    hint,
    input: category === "usage" ? "prometheus-url" : undefined,
  });
}

function badShape(what: string): PlatformError {
  return new PlatformError("PROM_BAD_RESPONSE", `Unexpected Prometheus response: ${what}`, {
    category: "environment",
    hint: "Check that the URL points at a Prometheus-compatible query API.",
  });
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
}

function parseData(data: unknown): QueryData {
  const d = data as { resultType?: unknown; result?: unknown } | undefined;
  switch (d?.resultType) {
    case "vector":
      return { resultType: "vector", result: asArray(d.result).flatMap(parseInstant) };
    case "matrix":
      return { resultType: "matrix", result: asArray(d.result).flatMap(parseSeries) };
    case "scalar":
      return { resultType: "scalar", result: parsePoint(d.result) };
    case "string": {
      const [t, v] = asPair(d.result);
      return { resultType: "string", result: { t: Number(t) * 1000, v: String(v) } };
    }
    default:
      throw badShape(`unknown resultType ${JSON.stringify(d?.resultType)}`);
  }
}

function asArray(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw badShape("result is not a list");
  return v;
}

function asPair(v: unknown): [unknown, unknown] {
  if (!Array.isArray(v) || v.length !== 2) throw badShape("a sample is not a [time, value] pair");
  return [v[0], v[1]];
}

function parsePoint(v: unknown): Point {
  const [t, value] = asPair(v);
  if (typeof t !== "number") throw badShape("sample time is not a number");
  return { t: Math.round(t * 1000), v: parseSampleValue(value) };
}

function labelsOf(v: unknown): Record<string, string> {
  if (!v || typeof v !== "object") return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string"));
}

// Native histogram samples ("histogram"/"histograms") carry no float value; our queries ask for classic
// buckets, so such samples are skipped rather than misread.
function parseInstant(v: unknown): InstantSample[] {
  const s = v as { metric?: unknown; value?: unknown };
  if (s.value === undefined) return [];
  const p = parsePoint(s.value);
  return [{ labels: labelsOf(s.metric), t: p.t, v: p.v }];
}

function parseSeries(v: unknown): RangeSeries[] {
  const s = v as { metric?: unknown; values?: unknown };
  if (s.values === undefined) return [];
  return [{ labels: labelsOf(s.metric), points: asArray(s.values).map(parsePoint) }];
}
