import { escapeLabelValue } from "./promql.ts";
import { poisson, prng } from "./random.ts";

/**
 * Synthetic mesh metrics as OpenMetrics text, for the demo, the replay source and the tests that
 * backfill a real Prometheus. Counters advance per scrape by seeded Poisson draws, so the same
 * spec always yields the same file.
 */
export type ScenarioName =
  | "healthy"
  | "error-spike"
  | "latency-regression"
  | "low-traffic"
  | "no-traffic"
  | "one-arm-missing"
  | "counter-reset"
  | "nan";

export interface ScenarioSpec {
  mesh?: "istio" | "cilium";
  namespace?: string;
  service?: string;
  /** First scrape's minute (ms since the epoch, whole minute). */
  start: number;
  minutes: number;
  /** Requests per second to the service, split by `canaryWeight` (default 100 and 0.05). */
  rps?: number;
  canaryWeight?: number;
  primaryErrorRate?: number;
  /** Canary error rate from minute `fromMinute` on (before it: the primary's rate). */
  canaryErrorRate?: number;
  fromMinute?: number;
  /** Share of requests slower than 250 ms (primary; canary after `fromMinute`). */
  primarySlowShare?: number;
  canarySlowShare?: number;
  /** Leave an arm's series out entirely. */
  missing?: "canary" | "primary";
  /** The canary's counters restart from zero at this minute (a pod restart). */
  resetAtMinute?: number;
  /** The canary's counters read NaN from this minute on. */
  nanFromMinute?: number;
  seed?: number;
}

const SCRAPE_SECONDS = 15;
// Scrapes sit 7 s past each 15 s mark, so no sample lands on a minute boundary, where Prometheus 2
// (left-closed windows) and 3 (left-open) would disagree about which window it belongs to.
const SCRAPE_OFFSET_SECONDS = 7;
const LE_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** The decision (and rule) each named scenario is built to produce at its end, for tests and the demo. */
export const SCENARIO_DECISIONS: Record<ScenarioName, [decision: string, rule: string]> = {
  healthy: ["promote", "promote.max-duration"],
  "error-spike": ["rollback", "errors.harm"],
  "latency-regression": ["rollback", "latency.harm"],
  "low-traffic": ["hold", "hold.insufficient-data"],
  "no-traffic": ["hold", "hold.no-canary-data"],
  "one-arm-missing": ["hold", "hold.no-primary-data"],
  "counter-reset": ["promote", "promote.max-duration"],
  nan: ["hold", "hold.no-recent-traffic"],
};

/** Parameters of the named scenarios the integration tests and the demo use. */
export function namedScenario(name: ScenarioName, start: number, minutes = 20): ScenarioSpec {
  const base: ScenarioSpec = { start, minutes, seed: 1 + name.length };
  switch (name) {
    case "healthy":
      return base;
    case "error-spike":
      return { ...base, canaryErrorRate: 0.05, fromMinute: 5 };
    case "latency-regression":
      return { ...base, canarySlowShare: 0.1, fromMinute: 5 };
    case "low-traffic":
      return { ...base, rps: 0.2 };
    case "no-traffic":
      return { ...base, canaryWeight: 0 };
    case "one-arm-missing":
      return { ...base, missing: "primary" };
    case "counter-reset":
      return { ...base, resetAtMinute: Math.floor(minutes / 2) };
    case "nan":
      return { ...base, nanFromMinute: minutes - 2 };
  }
}

/**
 * One or more scenarios as one OpenMetrics text (timestamps in seconds, ending with `# EOF`). Several
 * scenarios share the metric families, so give each its own namespace or service.
 */
export function scenarioOpenMetrics(specs: ScenarioSpec | ScenarioSpec[]): string {
  const families = new Map<string, string[]>();
  for (const spec of [specs].flat()) {
    for (const [header, lines] of scenarioFamilies(spec)) {
      const f = families.get(header);
      if (f) f.push(...lines);
      else families.set(header, [...lines]);
    }
  }
  return [...[...families].flatMap(([header, lines]) => [header, ...lines]), "# EOF", ""].join("\n");
}

function scenarioFamilies(spec: ScenarioSpec): Map<string, string[]> {
  const mesh = spec.mesh ?? "istio";
  const ns = spec.namespace ?? "demo";
  const service = spec.service ?? "podinfo";
  const rps = spec.rps ?? 100;
  const weight = spec.canaryWeight ?? 0.05;
  const pErr = spec.primaryErrorRate ?? 0.001;
  const pSlow = spec.primarySlowShare ?? 0.01;
  const rng = prng(spec.seed ?? 1);
  const scrapes = (spec.minutes * 60) / SCRAPE_SECONDS;
  const arms = [
    { workload: service, canary: true, share: weight },
    { workload: `${service}-primary`, canary: false, share: 1 - weight },
  ].filter((a) => spec.missing !== (a.canary ? "canary" : "primary"));

  const names =
    mesh === "istio"
      ? {
          requests: "istio_requests",
          code: "response_code",
          hist: "istio_request_duration_milliseconds",
          scale: 1,
          fixed: (w: string) => ({
            reporter: "destination",
            destination_workload: w,
            destination_workload_namespace: ns,
          }),
        }
      : {
          requests: "hubble_http_requests",
          code: "status",
          hist: "hubble_http_request_duration_seconds",
          scale: 0.001,
          fixed: (w: string) => ({ reporter: "server", destination_workload: w, destination_namespace: ns }),
        };

  // Simulate once, then write family by family (OpenMetrics forbids interleaving families).
  type Row = { t: number; ok: number; err: number; buckets: number[]; sum: number };
  const series = arms.map((arm) => {
    const rows: Row[] = [];
    let ok = 0;
    let err = 0;
    let sum = 0;
    let buckets = LE_MS.map(() => 0);
    let total = 0;
    for (let i = 0; i < scrapes; i++) {
      const minute = Math.floor((i * SCRAPE_SECONDS) / 60);
      const after = minute >= (spec.fromMinute ?? 0);
      if (
        arm.canary &&
        spec.resetAtMinute !== undefined &&
        i === (spec.resetAtMinute * 60) / SCRAPE_SECONDS
      ) {
        ok = 0;
        err = 0;
        sum = 0;
        total = 0;
        buckets = LE_MS.map(() => 0);
      }
      const n = poisson(rng, rps * arm.share * SCRAPE_SECONDS);
      const errRate = arm.canary && after && spec.canaryErrorRate !== undefined ? spec.canaryErrorRate : pErr;
      const slowShare =
        arm.canary && after && spec.canarySlowShare !== undefined ? spec.canarySlowShare : pSlow;
      const e = binomial(rng, n, errRate);
      ok += n - e;
      err += e;
      // Fast requests spread below 250 ms, slow ones between 250 ms and 5 s.
      const slow = binomial(rng, n, slowShare);
      const fastShares = [0.1, 0.3, 0.6, 0.8, 0.95, 1];
      const slowShares = [0.6, 0.9, 0.97, 1];
      buckets = buckets.map((b, k) =>
        k < 6
          ? b + Math.round((n - slow) * fastShares[k]!)
          : b + (n - slow) + Math.round(slow * slowShares[k - 6]!),
      );
      total += n;
      sum += (n - slow) * 60 + slow * 800;
      const t = spec.start / 1000 + i * SCRAPE_SECONDS + SCRAPE_OFFSET_SECONDS;
      rows.push({ t, ok, err, buckets: [...buckets, total], sum });
    }
    return { arm, rows };
  });

  const fmt = (v: number, arm: { canary: boolean }, t: number) =>
    arm.canary && spec.nanFromMinute !== undefined && t >= spec.start / 1000 + spec.nanFromMinute * 60
      ? "NaN"
      : String(v);
  const labels = (l: Record<string, string>) =>
    `{${Object.entries(l)
      .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
      .join(",")}}`;
  const counters: string[] = [];
  for (const { arm, rows } of series) {
    for (const [code, pick] of [
      ["200", (r: Row) => r.ok],
      ["503", (r: Row) => r.err],
    ] as const) {
      const l = labels({ ...names.fixed(arm.workload), [names.code]: code });
      for (const r of rows)
        counters.push(`${names.requests}_total${l} ${fmt(pick(r), arm, r.t)} ${r.t.toFixed(3)}`);
    }
  }
  const histogram: string[] = [];
  for (const { arm, rows } of series) {
    for (const r of rows) {
      const bounds = [...LE_MS.map((b) => String(b * names.scale)), "+Inf"];
      bounds.forEach((le, k) => {
        histogram.push(
          `${names.hist}_bucket${labels({ ...names.fixed(arm.workload), le })} ${fmt(r.buckets[k]!, arm, r.t)} ${r.t.toFixed(3)}`,
        );
      });
      histogram.push(
        `${names.hist}_count${labels(names.fixed(arm.workload))} ${fmt(r.buckets.at(-1)!, arm, r.t)} ${r.t.toFixed(3)}`,
      );
      histogram.push(
        `${names.hist}_sum${labels(names.fixed(arm.workload))} ${fmt(r.sum * names.scale, arm, r.t)} ${r.t.toFixed(3)}`,
      );
    }
  }
  const unit = mesh === "istio" ? "milliseconds" : "seconds";
  return new Map([
    [`# TYPE ${names.requests} counter\n# HELP ${names.requests} Requests served.`, counters],
    [
      `# TYPE ${names.hist} histogram\n# HELP ${names.hist} Request duration.\n# UNIT ${names.hist} ${unit}`,
      histogram,
    ],
  ]);
}

function binomial(rng: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n < 60) {
    let k = 0;
    for (let i = 0; i < n; i++) if (rng() < p) k++;
    return k;
  }
  return Math.min(n, poisson(rng, n * p));
}
