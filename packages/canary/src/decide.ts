import { formatCount } from "@platform/core";
import type { Histogram, IntervalObservation, Observations } from "./observations.ts";
import { type PairCounts, ratioBounds, type SequentialTestResult, sequentialTest } from "./stats.ts";

/** The gate's verdict; `continue` and `hold` are not terminal. */
export type DecisionKind = "promote" | "continue" | "hold" | "rollback" | "error";

/** Which rule decided; stable identifiers for outputs, summaries and tests. */
export type DecisionRule =
  | "errors.harm"
  | "latency.harm"
  | "burn-rate"
  | "promote.non-inferior"
  | "promote.max-duration"
  | "hold.no-canary-data"
  | "hold.no-primary-data"
  | "hold.no-recent-traffic"
  | "hold.insufficient-data"
  | "hold.latency-data-missing"
  | "continue.inconclusive"
  | "error.query";

export interface DecideOptions {
  /** Promote (with enough data) or stop once the canary is this old (default 30 min). */
  maxDurationSeconds?: number;
  /** Canary requests needed before any promotion (default 200). */
  minRequests?: number;
  /** Canary age needed before any promotion (default 3 intervals). */
  minDurationSeconds?: number;
  /** Bound on false rollbacks over the whole canary, split between the error and latency tests (default 0.01). */
  alpha?: number;
  /** Bound on promoting early a canary that is `promoteMargin` times worse (default 0.05). */
  alphaPromote?: number;
  /** Tolerated ratio of canary to primary bad rates before a rollback (default 1). */
  tolerance?: number;
  /** Early promotion needs evidence the ratio is below this (default 1.5). */
  promoteMargin?: number;
  latency?: {
    /** Default true; a latency regression is caught without configuring anything. */
    enabled?: boolean;
    /** The latency SLO threshold (histogram unit); the boundary is the bucket bound nearest to it. */
    slo?: number;
    /** A boundary fixed earlier (e.g. by the first evaluation in watch mode), used as is. */
    boundary?: number;
  };
  slo?: {
    /** Availability objective such as 0.999; enables the burn-rate guard. */
    availability?: number;
  };
  /** Errors the burn-rate guard's long window needs before it can fire (default 10). */
  burnRateMinErrors?: number;
  /** Compute anytime-valid bounds on the ratio for the explanation (default true; the benchmark turns it off). */
  bounds?: boolean;
}

export interface ArmTotals {
  requests: number;
  errors: number;
  /** errors / requests, or undefined without requests. */
  errorRate: number | undefined;
}

export interface TestEvidence extends SequentialTestResult {
  alpha: number;
  bounds?: { lower: number | undefined; upper: number | undefined };
}

export interface LatencyEvidence extends TestEvidence {
  /** The histogram bucket bound the test counts requests above. */
  boundary: number;
  unit: "ms" | "s";
  boundarySource: "pinned" | "slo" | "primary-p99";
  /** The primary's p99 estimated from the pooled histogram (linear within a bucket). */
  primaryP99: number | undefined;
}

export interface BurnRateEvidence {
  /** Nominal windows (seconds) before scaling, e.g. 3600/300. */
  longWindow: number;
  shortWindow: number;
  factor: number;
  /** Windows actually used, scaled to the canary's age, in seconds. */
  scaledLong: number;
  scaledShort: number;
  burnLong: number | undefined;
  burnShort: number | undefined;
  errorsLong: number;
  fired: boolean;
}

export interface SeriesPoint {
  end: number;
  canaryRequests: number | null;
  canaryErrorRate: number | null;
  primaryRequests: number | null;
  primaryErrorRate: number | null;
}

export interface Evidence {
  at: number;
  startedAt: number;
  ageSeconds: number;
  intervalSeconds: number;
  intervals: number;
  /** Intervals where the canary's or the primary's series was missing. */
  missingIntervals: { canary: number; primary: number };
  canary: ArmTotals;
  primary: ArmTotals;
  errors: TestEvidence;
  latency?: LatencyEvidence;
  /** Why latency was not tested, when it was not. */
  latencyNote?: string;
  burnRate?: BurnRateEvidence[];
  minSample: { requests: number; durationSeconds: number; met: boolean };
  series: SeriesPoint[];
  notes: string[];
}

export interface Decision {
  decision: DecisionKind;
  rule: DecisionRule;
  /** One or two sentences a person can act on: counts, rates, statistic and bound. */
  reason: string;
  evidence: Evidence;
}

const MULTIWINDOW = [
  { long: 3600, short: 300, factor: 14.4 },
  { long: 21600, short: 1800, factor: 6 },
] as const;

/**
 * Decides from the observations: pure, no I/O. Rollback needs evidence (a test rejecting or the SLO
 * burning); missing data only ever leads to `hold`; promotion needs the minimum sample and either a
 * conclusive non-inferiority test or the maximum duration.
 */
export function decide(obs: Observations, options: DecideOptions = {}): Decision {
  const maxDuration = options.maxDurationSeconds ?? 1800;
  const minRequests = options.minRequests ?? 200;
  const minDuration = options.minDurationSeconds ?? 3 * obs.intervalSeconds;
  const alpha = options.alpha ?? 0.01;
  const latencyOn = options.latency?.enabled ?? true;
  const testOpts = {
    r0: options.tolerance ?? 1,
    r1: options.promoteMargin ?? 1.5,
    alphaPromote: options.alphaPromote ?? 0.05,
  };
  const ageSeconds = Math.max(0, (obs.at - obs.startedAt) / 1000);
  const intervals = obs.intervals;

  const canary = totals(intervals, "canary");
  const primary = totals(intervals, "primary");
  const errorPairs = intervals.map(errorPair);

  const latency = latencyOn ? latencyPairs(obs, options) : undefined;
  // The two tests share the false-rollback budget, so together they stay within alpha. The split is
  // fixed by the options, not by whether latency data happens to exist at this look, so every look
  // of a watch tests errors at the same level.
  const errorAlpha = latencyOn ? alpha / 2 : alpha;
  const errorsTest = sequentialTest(errorPairs, { ...testOpts, alpha: errorAlpha });
  const errors: TestEvidence = { ...errorsTest, alpha: errorAlpha };
  if (options.bounds !== false) errors.bounds = ratioBounds(errorPairs, { ...testOpts, alpha: errorAlpha });

  let latencyEvidence: LatencyEvidence | undefined;
  let latencyNote: string | undefined;
  if (latency && "pairs" in latency) {
    const t = sequentialTest(latency.pairs, { ...testOpts, alpha: alpha / 2 });
    latencyEvidence = {
      ...t,
      alpha: alpha / 2,
      boundary: latency.boundary,
      unit: obs.latencyUnit ?? "ms",
      boundarySource: latency.source,
      primaryP99: latency.p99,
    };
    if (options.bounds !== false)
      latencyEvidence.bounds = ratioBounds(latency.pairs, { ...testOpts, alpha: alpha / 2 });
  } else if (latency) {
    latencyNote = latency.note;
  } else {
    latencyNote = "latency test disabled";
  }

  const burnRate =
    options.slo?.availability !== undefined
      ? burnRateGuard(
          intervals,
          obs.intervalSeconds,
          ageSeconds,
          options.slo.availability,
          options.burnRateMinErrors ?? 10,
        )
      : undefined;

  const minSampleMet = canary.requests >= minRequests && ageSeconds >= minDuration;
  const evidence: Evidence = {
    at: obs.at,
    startedAt: obs.startedAt,
    ageSeconds,
    intervalSeconds: obs.intervalSeconds,
    intervals: intervals.length,
    missingIntervals: {
      canary: intervals.filter((i) => i.canary === null).length,
      primary: intervals.filter((i) => i.primary === null).length,
    },
    canary,
    primary,
    errors,
    ...(latencyEvidence ? { latency: latencyEvidence } : {}),
    ...(latencyNote ? { latencyNote } : {}),
    ...(burnRate ? { burnRate } : {}),
    minSample: { requests: minRequests, durationSeconds: minDuration, met: minSampleMet },
    series: intervals.map(seriesPoint),
    notes: obs.notes,
  };
  const verdict = (decision: DecisionKind, rule: DecisionRule, reason: string): Decision => ({
    decision,
    rule,
    reason,
    evidence,
  });

  // Evidence of harm first: it stands whatever else is missing.
  if (errors.harm.rejected) {
    return verdict("rollback", "errors.harm", `${harmSentence("error rate", errors, canary, primary)}`);
  }
  if (latencyEvidence?.harm.rejected) {
    const l = latencyEvidence;
    return verdict(
      "rollback",
      "latency.harm",
      `${pct(rate(l.canary))} of canary requests (${formatCount(l.canary.bad)}/${formatCount(l.canary.total)}) took longer than ${l.boundary} ${l.unit} against ${pct(rate(l.primary))} on the primary (${formatCount(l.primary.bad)}/${formatCount(l.primary.total)}); ${statSentence(l)}`,
    );
  }
  const fired = burnRate?.find((b) => b.fired);
  if (fired) {
    return verdict(
      "rollback",
      "burn-rate",
      `The canary burns its error budget ${fmt(fired.burnLong)}× over ${dur(fired.scaledLong)} and ${fmt(fired.burnShort)}× over ${dur(fired.scaledShort)} (limit ${fired.factor}× on both; windows ${dur(fired.longWindow)}/${dur(fired.shortWindow)} scaled to the canary's age) with an availability objective of ${pct(options.slo?.availability)}.`,
    );
  }

  if (canary.requests === 0) {
    const allMissing = intervals.every((i) => i.canary === null);
    return verdict(
      "hold",
      "hold.no-canary-data",
      allMissing
        ? "No canary series was found: the canary has received no traffic yet, or the selector does not match it. Missing data is not a failure; waiting."
        : "The canary has received no requests yet; waiting for traffic.",
    );
  }
  if (primary.requests === 0) {
    return verdict(
      "hold",
      "hold.no-primary-data",
      "No primary traffic was found, so there is no baseline to compare with; check the primary selector. Missing data is not a failure; waiting.",
    );
  }

  // Promotion needs current data too: a canary whose series just vanished or went NaN may be broken.
  const last = intervals.at(-1);
  if (!last || last.canary === null || last.canary.requests === 0) {
    if (ageSeconds >= maxDuration && !minSampleMet) {
      return verdict(
        "hold",
        "hold.insufficient-data",
        `Maximum duration ${dur(maxDuration)} reached with only ${canary.requests} canary requests (minimum ${minRequests}); too little data to promote, and no evidence to roll back.`,
      );
    }
    return verdict(
      "hold",
      "hold.no-recent-traffic",
      `The canary received no requests in the last interval (${last?.canary === null ? "series missing or NaN" : "zero requests"}); no evidence either way, so neither promoting nor rolling back.`,
    );
  }
  const latencyConclusive = !latencyEvidence || latencyEvidence.nonInferiority.rejected;
  // With a latency SLO set, missing latency data must not pass for a healthy canary.
  const latencyBlocked = options.latency?.slo !== undefined && latencyOn && !latencyEvidence;
  if (latencyBlocked && ageSeconds >= maxDuration) {
    return verdict(
      "hold",
      "hold.latency-data-missing",
      `A latency SLO is set but ${latencyNote ?? "no latency histogram was found"}; the canary cannot be promoted on missing data.`,
    );
  }
  if (minSampleMet && errors.nonInferiority.rejected && latencyConclusive && !latencyBlocked) {
    return verdict(
      "promote",
      "promote.non-inferior",
      `The canary is shown to be no more than ${testOpts.r1}× worse than the primary: error rate ${pct(canary.errorRate)} (${formatCount(canary.errors)}/${formatCount(canary.requests)}) vs ${pct(primary.errorRate)} (${formatCount(primary.errors)}/${formatCount(primary.requests)}); non-inferiority ln M = ${fmt(errors.nonInferiority.logLR)} ≥ ${fmt(errors.nonInferiority.logThreshold)}${latencyEvidence ? `, and the same holds for requests slower than ${latencyEvidence.boundary} ${latencyEvidence.unit}` : ""}.`,
    );
  }
  if (ageSeconds >= maxDuration) {
    if (minSampleMet) {
      return verdict(
        "promote",
        "promote.max-duration",
        `Maximum duration ${dur(maxDuration)} reached with ${canary.requests} canary requests and no evidence of a regression: error rate ${pct(canary.errorRate)} vs ${pct(primary.errorRate)} on the primary (harm ln M = ${fmt(errors.harm.logLR)} < ${fmt(errors.harm.logThreshold)}).`,
      );
    }
    return verdict(
      "hold",
      "hold.insufficient-data",
      `Maximum duration ${dur(maxDuration)} reached with only ${canary.requests} canary requests (minimum ${minRequests}); too little data to promote, and no evidence to roll back.`,
    );
  }
  const needs = minSampleMet
    ? "the tests are not yet conclusive"
    : `the minimum sample is ${minRequests} requests and ${dur(minDuration)} (have ${canary.requests} and ${dur(ageSeconds)})`;
  return verdict(
    "continue",
    "continue.inconclusive",
    `No regression detected so far and ${needs}: canary error rate ${pct(canary.errorRate)} (${formatCount(canary.errors)}/${formatCount(canary.requests)}) vs ${pct(primary.errorRate)} (${formatCount(primary.errors)}/${formatCount(primary.requests)}); harm ln M = ${fmt(errors.harm.logLR)} < ${fmt(errors.harm.logThreshold)}.`,
  );
}

function harmSentence(what: string, t: TestEvidence, canary: ArmTotals, primary: ArmTotals): string {
  return `The canary's ${what} ${pct(canary.errorRate)} (${formatCount(canary.errors)}/${formatCount(canary.requests)}) is higher than the primary's ${pct(primary.errorRate)} (${formatCount(primary.errors)}/${formatCount(primary.requests)}); ${statSentence(t)}`;
}

function statSentence(t: TestEvidence): string {
  const ratio = t.ratio === undefined ? "n/a" : `${fmt(t.ratio)}×`;
  const lower =
    t.bounds?.lower !== undefined
      ? `, ratio > ${fmt(t.bounds.lower)} with confidence ${pct(1 - t.alpha)}`
      : "";
  return `ratio ${ratio} against a tolerated ${t.harm.nullRatio}×: mixture SPRT ln M = ${fmt(t.harm.logLR)} ≥ ln(1/α) = ${fmt(t.harm.logThreshold)} (α = ${t.alpha})${lower}.`;
}

function totals(intervals: readonly IntervalObservation[], arm: "canary" | "primary"): ArmTotals {
  let requests = 0;
  let errors = 0;
  for (const i of intervals) {
    const s = i[arm];
    if (!s) continue;
    requests += count(s.requests);
    errors += Math.min(count(s.errors), count(s.requests));
  }
  return { requests, errors, errorRate: requests > 0 ? errors / requests : undefined };
}

function count(v: number): number {
  return Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

function errorPair(i: IntervalObservation): PairCounts {
  return {
    canaryTotal: i.canary ? count(i.canary.requests) : 0,
    canaryBad: i.canary ? count(i.canary.errors) : 0,
    primaryTotal: i.primary ? count(i.primary.requests) : 0,
    primaryBad: i.primary ? count(i.primary.errors) : 0,
  };
}

function seriesPoint(i: IntervalObservation): SeriesPoint {
  const r = (s: { requests: number; errors: number } | null) =>
    s && count(s.requests) > 0 ? Math.min(count(s.errors), count(s.requests)) / count(s.requests) : null;
  return {
    end: i.end,
    canaryRequests: i.canary ? count(i.canary.requests) : null,
    canaryErrorRate: r(i.canary),
    primaryRequests: i.primary ? count(i.primary.requests) : null,
    primaryErrorRate: r(i.primary),
  };
}

type LatencyPlan =
  | {
      pairs: PairCounts[];
      boundary: number;
      source: LatencyEvidence["boundarySource"];
      p99: number | undefined;
    }
  | { note: string };

function latencyPairs(obs: Observations, options: DecideOptions): LatencyPlan {
  const hist = obs.intervals.filter((i) => i.latency);
  if (!hist.length || hist.every((i) => !i.latency?.canary && !i.latency?.primary)) {
    return { note: "no latency histogram series were found" };
  }
  const pooled = pool(hist.map((i) => i.latency?.primary ?? null));
  const p99 = pooled ? quantile(pooled, 0.99) : undefined;
  let boundary: number | undefined;
  let source: LatencyEvidence["boundarySource"];
  const bounds = pooled?.le ?? pool(hist.map((i) => i.latency?.canary ?? null))?.le ?? [];
  const finite = bounds.filter(Number.isFinite);
  if (options.latency?.boundary !== undefined) {
    boundary = options.latency.boundary;
    source = "pinned";
  } else if (options.latency?.slo !== undefined) {
    boundary = nearest(finite, options.latency.slo);
    source = "slo";
  } else {
    if (!pooled || pooled.counts.at(-1)! < 100) {
      return { note: "the primary's histogram has too few requests (< 100) to place a boundary at its p99" };
    }
    boundary = p99 === undefined ? undefined : nearest(finite, p99);
    source = "primary-p99";
  }
  if (boundary === undefined) return { note: "the histogram has no finite bucket bounds" };
  const b = boundary;
  const pairs = obs.intervals.map((i) => {
    const c = i.latency?.canary ? above(i.latency.canary, b) : undefined;
    const p = i.latency?.primary ? above(i.latency.primary, b) : undefined;
    return {
      canaryTotal: c?.total ?? 0,
      canaryBad: c?.above ?? 0,
      primaryTotal: p?.total ?? 0,
      primaryBad: p?.above ?? 0,
    };
  });
  return { pairs, boundary: b, source, p99 };
}

/** Requests above bound `b` and in total; undefined when the histogram has no bucket at `b`. */
function above(h: Histogram, b: number): { total: number; above: number } | undefined {
  const idx = h.le.indexOf(b);
  const total = count(h.counts.at(-1) ?? 0);
  if (idx < 0 || h.le.at(-1) !== Number.POSITIVE_INFINITY) return undefined;
  const within = Math.min(count(h.counts[idx]!), total);
  return { total, above: total - within };
}

function pool(hs: ReadonlyArray<Histogram | null>): Histogram | undefined {
  const present = hs.filter((h): h is Histogram => h !== null && h.le.length > 0);
  if (!present.length) return undefined;
  const le = [...new Set(present.flatMap((h) => h.le))].sort((a, b) => a - b);
  const counts = le.map((b) =>
    present.reduce((sum, h) => {
      const i = h.le.indexOf(b);
      return sum + (i >= 0 ? count(h.counts[i]!) : 0);
    }, 0),
  );
  return { le, counts };
}

/** histogram_quantile's estimate: linear interpolation inside the bucket holding the rank. */
export function quantile(h: Histogram, q: number): number | undefined {
  const total = h.counts.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < h.le.length; i++) {
    if (h.counts[i]! >= rank) {
      const upper = h.le[i]!;
      const lower = i === 0 ? 0 : h.le[i - 1]!;
      if (!Number.isFinite(upper)) return lower;
      const below = i === 0 ? 0 : h.counts[i - 1]!;
      const inBucket = h.counts[i]! - below;
      return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
    }
  }
  return h.le.at(-1);
}

function nearest(values: readonly number[], target: number): number | undefined {
  let best: number | undefined;
  for (const v of values) {
    if (best === undefined || Math.abs(v - target) < Math.abs(best - target)) best = v;
  }
  return best;
}

/**
 * Multi-window burn-rate alerting (Google SRE workbook, ch. 5) on the canary alone: 14.4× over 1 h
 * and 5 min, 6× over 6 h and 30 min. A canary is younger than those windows, so all four shrink by
 * the same factor (age / 6 h, at most 1) and are rounded to whole intervals; the long window must
 * also hold `minErrors` errors, so a single early error at low traffic cannot fire it.
 */
export function burnRateGuard(
  intervals: readonly IntervalObservation[],
  intervalSeconds: number,
  ageSeconds: number,
  availability: number,
  minErrors: number,
): BurnRateEvidence[] {
  const budget = 1 - availability;
  const scale = Math.min(1, ageSeconds / 21600);
  return MULTIWINDOW.map(({ long, short, factor }) => {
    const nLong = Math.max(1, Math.round((long * scale) / intervalSeconds));
    const nShort = Math.max(1, Math.round((short * scale) / intervalSeconds));
    const l = window(intervals, nLong);
    const s = window(intervals, nShort);
    const burnLong = l.requests > 0 && budget > 0 ? l.errors / l.requests / budget : undefined;
    const burnShort = s.requests > 0 && budget > 0 ? s.errors / s.requests / budget : undefined;
    return {
      longWindow: long,
      shortWindow: short,
      factor,
      scaledLong: nLong * intervalSeconds,
      scaledShort: nShort * intervalSeconds,
      burnLong,
      burnShort,
      errorsLong: l.errors,
      fired:
        burnLong !== undefined &&
        burnShort !== undefined &&
        burnLong >= factor &&
        burnShort >= factor &&
        l.errors >= minErrors,
    };
  });
}

function window(intervals: readonly IntervalObservation[], n: number): { requests: number; errors: number } {
  return totals(intervals.slice(-n), "canary");
}

function rate(a: { total: number; bad: number }): number | undefined {
  return a.total > 0 ? a.bad / a.total : undefined;
}

function pct(v: number | undefined): string {
  if (v === undefined) return "n/a";
  const p = v * 100;
  return `${p >= 10 ? p.toFixed(1) : p >= 1 ? p.toFixed(2) : p.toFixed(3)}%`;
}

function fmt(v: number | undefined): string {
  if (v === undefined) return "n/a";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}

function dur(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds)} s`;
}
