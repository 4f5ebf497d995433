import { PlatformError } from "@platform/core";
import type { Histogram, IntervalObservation, Observations } from "./observations.ts";
import type { PrometheusClient, RangeSeries } from "./prometheus.ts";
import {
  alternation,
  checkNamespace,
  checkServiceName,
  escapeLabelValue,
  formatDuration,
  type LabelMatcher,
  renderTemplate,
  sumIncrease,
} from "./promql.ts";

/**
 * The structure of the queries the built-in sources issue: `sum by (by) (increase(metric{matchers}[window]))`.
 * The PromQL string is what Prometheus runs; the replay source evaluates this shape directly.
 */
export interface QueryShape {
  metric: string;
  matchers: LabelMatcher[];
  windowSeconds: number;
  by: string[];
}

export interface MetricQuery {
  promql: string;
  /** Present for built-in sources; custom PromQL has none and cannot be replayed offline. */
  shape?: QueryShape;
}

export interface RangeWindow {
  /** ms since the epoch; evaluation points are start, start + step, … ≤ end. */
  start: number;
  end: number;
  stepSeconds: number;
}

/** Where metrics come from: a Prometheus server or an OpenMetrics replay. */
export interface MetricsBackend {
  range(query: MetricQuery, window: RangeWindow): Promise<{ series: RangeSeries[]; warnings: string[] }>;
  /** For replays: the newest sample's time, the default evaluation time. */
  lastTimestamp?: number;
  /** For replays: the oldest sample's time, where a replayed watch starts. */
  firstTimestamp?: number;
  describe: string;
}

/** A backend over the Prometheus HTTP API. */
export function prometheusBackend(client: PrometheusClient): MetricsBackend {
  return {
    describe: client.url,
    async range(query, w) {
      const r = await client.queryRange(query.promql, {
        start: w.start,
        end: w.end,
        stepSeconds: w.stepSeconds,
      });
      if (r.data.resultType !== "matrix") {
        throw new PlatformError(
          "CANARY_QUERY_SHAPE",
          `The query returned a ${r.data.resultType}, not series grouped by the arm label: ${query.promql}`,
          { input: "queries", hint: "Aggregate with `sum by ({{label}}) (…)` so each arm is one series." },
        );
      }
      return { series: r.data.result, warnings: [...r.warnings, ...r.infos] };
    },
  };
}

export type Mesh = "istio" | "cilium" | "custom";

/** Which label value marks each arm; both arms share the label so one query fetches both. */
export interface ArmSelectors {
  label: string;
  canary: string;
  primary: string;
}

/** PromQL templates for `mesh: custom`; each must return one series per arm, labelled with `{{label}}`. */
export interface CustomQueries {
  /** Requests per arm over `{{interval}}`, e.g. `sum by ({{label}}) (increase(http_requests_total{ {{selector}} }[{{interval}}]))`. */
  requests: string;
  /** Failed requests per arm over `{{interval}}`. */
  errors: string;
  /** Optional: cumulative histogram bucket counts per arm and `le` over `{{interval}}`. */
  latency?: string;
  /** Unit of the latency histogram (default ms). */
  latencyUnit?: "ms" | "s";
}

export interface SourceConfig {
  mesh: Mesh;
  namespace: string;
  /** The Flagger target: canary workload `<service>`, primary `<service>-primary` unless selectors say otherwise. */
  service: string;
  selectors?: Partial<ArmSelectors>;
  queries?: CustomQueries;
  /** Status codes counted as errors, as an anchored regex (default `5..`). */
  errorCodes?: string;
}

interface Plan {
  selectors: ArmSelectors;
  requests: MetricQuery;
  /** For the mesh sources: the status label whose value decides error vs success. */
  statusLabel?: string;
  errors?: MetricQuery;
  latency?: MetricQuery;
  latencyUnit: "ms" | "s";
}

/** The label telling arms apart for each mesh (Flagger's naming: the workload). */
const DEFAULT_LABEL: Record<Mesh, string> = {
  istio: "destination_workload",
  cilium: "destination_workload",
  custom: "destination_workload",
};

/** Builds the queries a source issues for one evaluation window; pure. */
export function planQueries(config: SourceConfig, intervalSeconds: number, latency: boolean): Plan {
  const namespace = checkNamespace(config.namespace);
  const service = checkServiceName(config.service);
  const selectors: ArmSelectors = {
    label: config.selectors?.label ?? DEFAULT_LABEL[config.mesh],
    canary: config.selectors?.canary ?? service,
    primary: config.selectors?.primary ?? `${service}-primary`,
  };
  if (selectors.canary === selectors.primary) {
    throw new PlatformError(
      "CANARY_SELECTORS_EQUAL",
      `Canary and primary both select ${selectors.label}="${selectors.canary}"`,
      {
        input: "canary-selector",
        hint: "The two arms must differ in the selector's label value, e.g. podinfo and podinfo-primary.",
      },
    );
  }
  const arms: LabelMatcher = {
    name: selectors.label,
    op: "=~",
    value: alternation([selectors.canary, selectors.primary]),
  };
  const shape = (metric: string, matchers: LabelMatcher[], extra: string): MetricQuery => {
    const s: QueryShape = { metric, matchers, windowSeconds: intervalSeconds, by: [selectors.label, extra] };
    return { promql: sumIncrease(s.metric, s.matchers, s.windowSeconds, s.by), shape: s };
  };
  switch (config.mesh) {
    case "istio": {
      // reporter="destination" is the server-side sidecar's view, the one Flagger queries.
      const m: LabelMatcher[] = [
        { name: "reporter", op: "=", value: "destination" },
        { name: "destination_workload_namespace", op: "=", value: namespace },
        arms,
      ];
      return {
        selectors,
        requests: shape("istio_requests_total", m, "response_code"),
        statusLabel: "response_code",
        ...(latency ? { latency: shape("istio_request_duration_milliseconds_bucket", m, "le") } : {}),
        latencyUnit: "ms",
      };
    }
    case "cilium": {
      // Hubble's httpV2 metrics with labelsContext including destination_namespace and destination_workload.
      const m: LabelMatcher[] = [
        { name: "reporter", op: "=", value: "server" },
        { name: "destination_namespace", op: "=", value: namespace },
        arms,
      ];
      return {
        selectors,
        requests: shape("hubble_http_requests_total", m, "status"),
        statusLabel: "status",
        ...(latency ? { latency: shape("hubble_http_request_duration_seconds_bucket", m, "le") } : {}),
        latencyUnit: "s",
      };
    }
    case "custom": {
      const q = config.queries;
      if (!q?.requests || !q.errors) {
        throw new PlatformError(
          "CANARY_QUERIES_MISSING",
          "mesh: custom needs a requests and an errors query",
          {
            input: "queries",
            hint: "Give `requests: <PromQL>` and `errors: <PromQL>` (optionally `latency: <PromQL>`), each grouped by {{label}}.",
          },
        );
      }
      const values = {
        namespace,
        service,
        selector: `${selectors.label}=~"${escapeLabelValue(arms.value)}"`,
        label: selectors.label,
        interval: formatDuration(intervalSeconds),
      };
      return {
        selectors,
        requests: { promql: renderTemplate(q.requests, values) },
        errors: { promql: renderTemplate(q.errors, values) },
        ...(latency && q.latency ? { latency: { promql: renderTemplate(q.latency, values) } } : {}),
        latencyUnit: q.latencyUnit ?? "ms",
      };
    }
  }
}

export interface FetchOptions {
  /** Evaluation time, ms since the epoch. */
  at: number;
  intervalSeconds: number;
  /** When the canary started; found from the first interval with canary traffic when absent. */
  startedAt?: number;
  /** How far back to look for the start when `startedAt` is absent. */
  lookbackSeconds: number;
  latency: boolean;
}

/** Fetches both arms' counts per interval (one query per metric, both arms together) and shapes them for `decide`. */
export async function fetchObservations(
  config: SourceConfig,
  backend: MetricsBackend,
  opts: FetchOptions,
): Promise<Observations> {
  const step = opts.intervalSeconds;
  const plan = planQueries(config, step, opts.latency);
  const stepMs = step * 1000;
  const earliest = opts.startedAt ?? opts.at - opts.lookbackSeconds * 1000;
  // Only whole intervals inside [earliest, at]; the partial one at the start is left out.
  const n = Math.floor((opts.at - earliest) / stepMs);
  const notes: string[] = [];
  if (n < 1) {
    return {
      startedAt: earliest,
      at: opts.at,
      intervalSeconds: step,
      intervals: [],
      latencyUnit: plan.latencyUnit,
      notes,
    };
  }
  const window: RangeWindow = { start: opts.at - (n - 1) * stepMs, end: opts.at, stepSeconds: step };
  const [requests, errors, latency] = await Promise.all([
    backend.range(plan.requests, window),
    plan.errors ? backend.range(plan.errors, window) : undefined,
    plan.latency ? backend.range(plan.latency, window) : undefined,
  ]);
  for (const r of [requests, errors, latency])
    for (const w of r?.warnings ?? []) notes.push(`Prometheus: ${w}`);

  const index = (t: number) => Math.round((t - window.start) / stepMs);
  const isError = errorMatcher(config.errorCodes);
  const nan = { canary: 0, primary: 0 };
  const intervals: IntervalObservation[] = Array.from({ length: n }, (_, i) => ({
    end: window.start + i * stepMs,
    canary: null,
    primary: null,
  }));
  const armOf = (labels: Record<string, string>): "canary" | "primary" | undefined =>
    labels[plan.selectors.label] === plan.selectors.canary
      ? "canary"
      : labels[plan.selectors.label] === plan.selectors.primary
        ? "primary"
        : undefined;

  // Per interval and arm: NaN anywhere poisons that cell, which then counts as missing.
  const poisoned = new Set<string>();
  for (const s of requests.series) {
    const arm = armOf(s.labels);
    if (!arm) continue;
    const status = plan.statusLabel ? (s.labels[plan.statusLabel] ?? "") : undefined;
    for (const p of s.points) {
      const i = index(p.t);
      const cell = intervals[i];
      if (!cell) continue;
      if (!Number.isFinite(p.v)) {
        poisoned.add(`${i}/${arm}`);
        continue;
      }
      cell[arm] ??= { requests: 0, errors: 0 };
      const sample = cell[arm];
      sample.requests += p.v;
      if (status !== undefined && isError(status)) sample.errors += p.v;
    }
  }
  if (errors) {
    for (const s of errors.series) {
      const arm = armOf(s.labels);
      if (!arm) continue;
      for (const p of s.points) {
        const i = index(p.t);
        const cell = intervals[i];
        if (!cell) continue;
        if (!Number.isFinite(p.v)) poisoned.add(`${i}/${arm}`);
        // An error series without a matching request series is inconsistent data, not a failure.
        else if (cell[arm]) cell[arm].errors += p.v;
      }
    }
  }
  for (const key of poisoned) {
    const [i, arm] = key.split("/") as [string, "canary" | "primary"];
    intervals[Number(i)]![arm] = null;
    nan[arm]++;
  }
  for (const arm of ["canary", "primary"] as const) {
    if (nan[arm])
      notes.push(
        `The ${arm}'s request series was NaN in ${nan[arm]} interval(s); those count as missing data.`,
      );
  }

  if (latency) {
    const buckets = intervals.map(() => ({
      canary: new Map<number, number>(),
      primary: new Map<number, number>(),
    }));
    const bad = new Set<string>();
    for (const s of latency.series) {
      const arm = armOf(s.labels);
      const le = parseLe(s.labels.le);
      if (!arm || le === undefined) continue;
      for (const p of s.points) {
        const i = index(p.t);
        if (!buckets[i]) continue;
        if (!Number.isFinite(p.v)) bad.add(`${i}/${arm}`);
        else buckets[i][arm].set(le, (buckets[i][arm].get(le) ?? 0) + p.v);
      }
    }
    intervals.forEach((cell, i) => {
      const b = buckets[i]!;
      cell.latency = {
        canary: bad.has(`${i}/canary`) ? null : toHistogram(b.canary),
        primary: bad.has(`${i}/primary`) ? null : toHistogram(b.primary),
      };
    });
    if (bad.size)
      notes.push(
        `The latency histogram was NaN in ${bad.size} arm-interval(s); those count as missing data.`,
      );
  }

  let startedAt = opts.startedAt ?? earliest;
  let kept = intervals;
  if (opts.startedAt === undefined) {
    const first = intervals.findIndex((c) => (c.canary?.requests ?? 0) > 0);
    if (first >= 0) {
      kept = intervals.slice(first);
      startedAt = kept[0]!.end - stepMs;
    } else {
      kept = [];
      startedAt = opts.at;
    }
  }
  return {
    startedAt,
    at: opts.at,
    intervalSeconds: step,
    intervals: kept,
    latencyUnit: plan.latencyUnit,
    notes,
  };
}

function toHistogram(m: Map<number, number>): Histogram | null {
  if (!m.size || !m.has(Number.POSITIVE_INFINITY)) return null;
  const le = [...m.keys()].sort((a, b) => a - b);
  return { le, counts: le.map((b) => m.get(b)!) };
}

function parseLe(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v === "+Inf" || v === "Inf") return Number.POSITIVE_INFINITY;
  const n = Number(v);
  return v.trim() !== "" && Number.isFinite(n) ? n : undefined;
}

function errorMatcher(pattern = "5.."): (status: string) => boolean {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new PlatformError("CANARY_ERROR_CODES_INVALID", `"${pattern}" is not a valid status-code pattern`, {
      input: "error-codes",
      hint: "Use a regular expression over status codes, e.g. 5.. or 5..|429.",
      cause: err,
    });
  }
  return (status) => re.test(status);
}
