import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createLogger, errorMessage, isPlatformError, type Logger, PlatformError } from "@platform/core";
import { type DecideOptions, type Decision, decide, type Evidence } from "./decide.ts";
import { createPrometheusClient, type PrometheusAuth, type PrometheusClientOptions } from "./prometheus.ts";
import { parseOpenMetrics, replayBackend } from "./replay.ts";
import { fetchObservations, type MetricsBackend, prometheusBackend, type SourceConfig } from "./sources.ts";

/** One gate evaluation's inputs (the action's and CLI's options, typed). */
export interface GateInput extends SourceConfig {
  /** Evaluation step and window of each count (default 60 s). */
  intervalSeconds?: number;
  /** Promote with enough data, or stop watching, at this canary age (default 30 min). */
  maxDurationSeconds?: number;
  /** When the canary started (ms since the epoch); found from the metrics when absent. */
  startedAt?: number;
  /** Evaluation time (ms since the epoch); default now, or a replay file's last sample. */
  at?: number;
  decide?: DecideOptions;
}

export interface GateDeps {
  backend: MetricsBackend;
  clock?: () => Date;
  log?: Logger;
}

/** A decision whose queries failed: the error's code, message and hint. */
export interface GateDecision extends Decision {
  error?: { code: string; message: string; hint?: string };
}

/** Fetches both arms and decides once; query failures (after retries) become an `error` decision. */
export async function evaluateGate(input: GateInput, deps: GateDeps): Promise<GateDecision> {
  const interval = input.intervalSeconds ?? 60;
  const maxDuration = input.maxDurationSeconds ?? 1800;
  const at = input.at ?? deps.backend.lastTimestamp ?? (deps.clock?.() ?? new Date()).getTime();
  const latency = input.decide?.latency?.enabled ?? true;
  const log = deps.log ?? createLogger({ write() {} });
  let obs: Awaited<ReturnType<typeof fetchObservations>>;
  try {
    obs = await fetchObservations(input, deps.backend, {
      at,
      intervalSeconds: interval,
      ...(input.startedAt !== undefined ? { startedAt: input.startedAt } : {}),
      lookbackSeconds: maxDuration,
      latency,
    });
  } catch (err) {
    // Configuration mistakes are the caller's to fix; only the environment's failures become a decision.
    if (isPlatformError(err) && err.category === "usage" && !err.code.startsWith("PROM_")) throw err;
    const e = err instanceof PlatformError ? err : undefined;
    log.warn(`canary metrics query failed: ${errorMessage(err)}`);
    return {
      decision: "error",
      rule: "error.query",
      reason: `The metrics could not be read from ${deps.backend.describe}: ${errorMessage(err)}${e?.hint ? ` (${e.hint})` : ""}`,
      evidence: emptyEvidence(at, interval),
      error: {
        code: e?.code ?? "CANARY_QUERY_FAILED",
        message: errorMessage(err),
        ...(e?.hint ? { hint: e.hint } : {}),
      },
    };
  }
  return decide(obs, { maxDurationSeconds: maxDuration, ...input.decide });
}

export interface WatchDeps extends GateDeps {
  sleep?: (ms: number) => Promise<void>;
  /** Called after every evaluation (progress lines, summaries). */
  onDecision?: (d: GateDecision) => void;
}

/**
 * Evaluates every interval until a terminal decision (promote, rollback, error) or the canary's
 * maximum duration; returns the last decision and all of them. The latency boundary chosen by the
 * first evaluation that had one is pinned, so later looks test the same bucket. Over a replay (a
 * backend with fixed data and no `at` given) it steps the evaluation time through the file one
 * interval at a time without sleeping: when would the gate have decided?
 */
export async function watchGate(
  input: GateInput,
  deps: WatchDeps,
): Promise<{ final: GateDecision; decisions: GateDecision[] }> {
  const interval = input.intervalSeconds ?? 60;
  const maxDuration = input.maxDurationSeconds ?? 1800;
  const clock = deps.clock ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const watchStart = clock().getTime();
  const decisions: GateDecision[] = [];
  const replay =
    input.at === undefined &&
    deps.backend.lastTimestamp !== undefined &&
    deps.backend.firstTimestamp !== undefined
      ? {
          at: (input.startedAt ?? deps.backend.firstTimestamp) + interval * 1000,
          last: deps.backend.lastTimestamp,
        }
      : undefined;
  let pinned = input.decide?.latency?.boundary;
  let startedAt = input.startedAt;
  for (;;) {
    const d = await evaluateGate(
      {
        ...input,
        ...(startedAt !== undefined ? { startedAt } : {}),
        ...(replay ? { at: Math.min(replay.at, replay.last) } : {}),
        decide: {
          ...input.decide,
          latency: { ...input.decide?.latency, ...(pinned !== undefined ? { boundary: pinned } : {}) },
        },
      },
      deps,
    );
    decisions.push(d);
    deps.onDecision?.(d);
    if (pinned === undefined && d.evidence.latency) pinned = d.evidence.latency.boundary;
    // Once found, the start stays put, so later looks do not re-detect it from a quiet spell.
    if (startedAt === undefined && d.evidence.intervals > 0) startedAt = d.evidence.startedAt;
    const terminal = d.decision === "promote" || d.decision === "rollback" || d.decision === "error";
    if (replay) {
      if (terminal || d.evidence.ageSeconds >= maxDuration || replay.at >= replay.last)
        return { final: d, decisions };
      replay.at += interval * 1000;
      continue;
    }
    const elapsed = (clock().getTime() - watchStart) / 1000;
    if (terminal || d.evidence.ageSeconds >= maxDuration || elapsed >= maxDuration)
      return { final: d, decisions };
    await sleep(interval * 1000);
  }
}

export interface BackendOptions {
  /** http(s):// for Prometheus, file:// for an OpenMetrics replay. */
  url: string;
  auth?: PrometheusAuth;
  log?: Logger;
  fetch?: typeof fetch;
  retry?: PrometheusClientOptions["retry"];
  /** Largest replay file read (default 64 MiB). */
  maxReplayBytes?: number;
}

/** The backend for `prometheus-url`: a Prometheus client, or an OpenMetrics replay for file:// URLs. */
export async function openBackend(opts: BackendOptions): Promise<MetricsBackend> {
  if (opts.url.trim().startsWith("file:")) {
    let path: string;
    try {
      path = fileURLToPath(opts.url.trim());
    } catch (err) {
      throw new PlatformError("REPLAY_URL_INVALID", `"${opts.url}" is not a valid file:// URL`, {
        input: "prometheus-url",
        hint: "Write an absolute file URL such as file:///work/scenarios/bad-canary.openmetrics.",
        cause: err,
      });
    }
    const maxBytes = opts.maxReplayBytes ?? 64 * 1024 * 1024;
    const info = await stat(path).catch((err: unknown) => {
      throw new PlatformError("REPLAY_FILE_MISSING", `Cannot read the replay file ${path}`, {
        input: "prometheus-url",
        file: path,
        hint: "Check the path of the OpenMetrics file.",
        cause: err,
      });
    });
    if (info.size > maxBytes) {
      throw new PlatformError("REPLAY_TOO_LARGE", `The replay file is larger than ${maxBytes} bytes`, {
        input: "prometheus-url",
        file: path,
      });
    }
    const text = await readFile(path, "utf8");
    return replayBackend(parseOpenMetrics(text, { maxBytes }, path), `replay of ${path}`);
  }
  return prometheusBackend(
    createPrometheusClient({
      url: opts.url,
      ...(opts.auth ? { auth: opts.auth } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.retry ? { retry: opts.retry } : {}),
    }),
  );
}

function emptyEvidence(at: number, intervalSeconds: number): Evidence {
  const emptyTest = {
    canary: { total: 0, bad: 0 },
    primary: { total: 0, bad: 0 },
    informativeIntervals: 0,
    ratio: undefined,
    harm: { logLR: 0, logThreshold: 0, rejected: false, nullRatio: 1 },
    nonInferiority: { logLR: 0, logThreshold: 0, rejected: false, nullRatio: 1.5 },
    alpha: 0,
  };
  return {
    at,
    startedAt: at,
    ageSeconds: 0,
    intervalSeconds,
    intervals: 0,
    missingIntervals: { canary: 0, primary: 0 },
    canary: { requests: 0, errors: 0, errorRate: undefined },
    primary: { requests: 0, errors: 0, errorRate: undefined },
    errors: emptyTest,
    minSample: { requests: 0, durationSeconds: 0, met: false },
    series: [],
    notes: [],
  };
}
