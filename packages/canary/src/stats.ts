/**
 * Anytime-valid comparison of a canary's "bad" rate (errors, or requests slower than a latency
 * boundary) with the primary's: a mixture sequential probability ratio test on the conditional
 * binomial. The full derivation is in docs/canary-statistics.md; in short:
 *
 * In interval t the canary serves N_c requests with e_c bad ones and the primary N_p with e_p. With
 * bad events arriving as Poisson processes at rates q_c·N_c and q_p·N_p, and n = e_c + e_p fixed,
 *
 *     e_c | n ~ Binomial(n, p_t(r)),   p_t(r) = w_t·r / (w_t·r + 1 − w_t),
 *
 * where w_t = N_c / (N_c + N_p) is the canary's observed traffic share and r = q_c / q_p the ratio of
 * bad rates. The nuisance q_p drops out. For a fixed alternative r against the null ρ the interval's
 * likelihood ratio is
 *
 *     LR_t(r; ρ) = (r/ρ)^{e_c} · ((w_t·ρ + 1 − w_t) / (w_t·r + 1 − w_t))^{n},
 *
 * and the statistic is the mixture over a prior π on alternatives,
 *
 *     M_T = Σ_k π_k · Π_{t ≤ T} LR_t(r_k; ρ).
 *
 * Under H0 each product is a nonnegative martingale with mean 1 (a supermartingale for every r on the
 * null side, by the monotone likelihood ratio of the binomial), so M_T is one too and Ville's
 * inequality gives P(∃T: M_T ≥ 1/α) ≤ α: the false-alarm bound holds however often the gate looks.
 * Mixing over r rather than p keeps the product exact when the traffic share w_t drifts between
 * intervals. References: Wald (1945) for the SPRT; Robbins (1970) for mixture martingales; Johari,
 * Pekelis & Walsh (2017) "Always valid inference: Bringing sequential analysis to A/B testing"
 * ("Peeking at A/B tests", KDD 2017); Lindon & Malek (2022) "Anytime-valid inference for multinomial
 * count data" (NeurIPS 2022; arXiv 2020).
 *
 * Two one-sided tests run on the same counts:
 * - harm: H0 r ≤ r0 against r > r0 (alternatives r0·g, g > 1); rejecting means roll back;
 * - non-inferiority: H0 r ≥ r1 against r < r1 (alternatives r1/g); rejecting means the canary is shown
 *   to be no more than r1 times worse, which allows an early promotion.
 */

/** One interval's counts for both arms, fetched together so they cover the same window. */
export interface PairCounts {
  canaryTotal: number;
  canaryBad: number;
  primaryTotal: number;
  primaryBad: number;
}

export interface SequentialTestOptions {
  /** Tolerated ratio: the harm test's null is r ≤ r0 (default 1, "no worse than primary"). */
  r0?: number;
  /** Non-inferiority margin: promotion needs evidence that r < r1 (default 1.5). */
  r1?: number;
  /** False-rollback bound of the harm test (default 0.005). */
  alpha?: number;
  /** Bound on promoting a canary that is r1 or more times worse (default 0.05). */
  alphaPromote?: number;
}

/** The outcome of one one-sided mixture test. */
export interface OneSidedTest {
  /** ln M_T, the log of the mixture likelihood ratio. */
  logLR: number;
  /** ln(1/α): the test rejects its null when logLR reaches it. */
  logThreshold: number;
  rejected: boolean;
  /** The null ratio the test is against. */
  nullRatio: number;
}

export interface SequentialTestResult {
  canary: { total: number; bad: number };
  primary: { total: number; bad: number };
  /** Intervals with traffic on both arms and at least one bad event (the only ones carrying information). */
  informativeIntervals: number;
  /** Pooled estimate of r = canary bad rate / primary bad rate; undefined without any bad event. */
  ratio: number | undefined;
  harm: OneSidedTest;
  nonInferiority: OneSidedTest;
}

export const DEFAULT_TEST_OPTIONS: Required<SequentialTestOptions> = {
  r0: 1,
  r1: 1.5,
  alpha: 0.005,
  alphaPromote: 0.05,
};

/**
 * The mixing prior: ratios g on a log-spaced grid, equal weights. A discrete prior keeps the
 * statistic exact (no numerical integration) and still covers effects from +15% to 100×; its
 * spread is what buys power at every effect size instead of one.
 */
const HARM_GRID = logGrid(1.15, 100, 24);
const SAFE_GRID = logGrid(1.05, 20, 16);

function logGrid(lo: number, hi: number, k: number): number[] {
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: k }, (_, i) => Math.exp(a + ((b - a) * i) / (k - 1)));
}

interface Prepared {
  w: number;
  x: number;
  n: number;
}

function prepare(history: readonly PairCounts[]): {
  rows: Prepared[];
  canary: { total: number; bad: number };
  primary: { total: number; bad: number };
} {
  const rows: Prepared[] = [];
  const canary = { total: 0, bad: 0 };
  const primary = { total: 0, bad: 0 };
  for (const h of history) {
    const ct = clean(h.canaryTotal);
    const pt = clean(h.primaryTotal);
    const cb = Math.min(clean(h.canaryBad), ct);
    const pb = Math.min(clean(h.primaryBad), pt);
    canary.total += ct;
    canary.bad += cb;
    primary.total += pt;
    primary.bad += pb;
    // Without traffic on both arms, or without any bad event, an interval says nothing about r.
    if (ct > 0 && pt > 0 && cb + pb > 0) rows.push({ w: ct / (ct + pt), x: cb, n: cb + pb });
  }
  return { rows, canary, primary };
}

/** Counts are whole and nonnegative; anything else (NaN, negative after a reset) counts as nothing. */
function clean(v: number): number {
  return Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

/** ln Σ_k π_k Π_t LR_t(ρ·m_k; ρ) with equal weights π_k. */
function mixtureLogLR(rows: readonly Prepared[], rho: number, multipliers: readonly number[]): number {
  const k = multipliers.length;
  const logs = new Float64Array(k);
  for (const { w, x, n } of rows) {
    const base = Math.log(w * rho + 1 - w);
    for (let i = 0; i < k; i++) {
      const r = rho * multipliers[i]!;
      logs[i]! += x * Math.log(multipliers[i]!) + n * (base - Math.log(w * r + 1 - w));
    }
  }
  let max = Number.NEGATIVE_INFINITY;
  for (const l of logs) if (l > max) max = l;
  let sum = 0;
  for (const l of logs) sum += Math.exp(l - max);
  return max + Math.log(sum / k);
}

const INV_SAFE = SAFE_GRID.map((g) => 1 / g);

/** Runs both one-sided tests on the interval history (oldest first). Pure and deterministic. */
export function sequentialTest(
  history: readonly PairCounts[],
  options: SequentialTestOptions = {},
): SequentialTestResult {
  const o = { ...DEFAULT_TEST_OPTIONS, ...options };
  const { rows, canary, primary } = prepare(history);
  const harmLog = rows.length ? mixtureLogLR(rows, o.r0, HARM_GRID) : 0;
  const safeLog = rows.length ? mixtureLogLR(rows, o.r1, INV_SAFE) : 0;
  const harmThreshold = Math.log(1 / o.alpha);
  const safeThreshold = Math.log(1 / o.alphaPromote);
  return {
    canary,
    primary,
    informativeIntervals: rows.length,
    ratio: pooledRatio(canary, primary),
    harm: {
      logLR: harmLog,
      logThreshold: harmThreshold,
      rejected: harmLog >= harmThreshold,
      nullRatio: o.r0,
    },
    nonInferiority: {
      logLR: safeLog,
      logThreshold: safeThreshold,
      rejected: safeLog >= safeThreshold,
      nullRatio: o.r1,
    },
  };
}

function pooledRatio(
  canary: { total: number; bad: number },
  primary: { total: number; bad: number },
): number | undefined {
  if (canary.total === 0 || primary.total === 0 || canary.bad + primary.bad === 0) return undefined;
  const qc = canary.bad / canary.total;
  const qp = primary.bad / primary.total;
  return qp === 0 ? Number.POSITIVE_INFINITY : qc / qp;
}

/**
 * Anytime-valid bounds on r at the tests' levels: `lower` is the largest null ratio ρ the harm test
 * rejects (r > lower with confidence 1 − alpha) and `upper` the smallest margin ρ the
 * non-inferiority test rejects (r < upper with confidence 1 − alphaPromote). Found by bisection on
 * ln ρ; `undefined` when no ρ in [1/1000, 1000] is rejected. For explanations, not for decisions.
 */
export function ratioBounds(
  history: readonly PairCounts[],
  options: SequentialTestOptions = {},
): { lower: number | undefined; upper: number | undefined } {
  const o = { ...DEFAULT_TEST_OPTIONS, ...options };
  const { rows } = prepare(history);
  if (!rows.length) return { lower: undefined, upper: undefined };
  const harmT = Math.log(1 / o.alpha);
  const safeT = Math.log(1 / o.alphaPromote);
  const harmRejects = (rho: number) => mixtureLogLR(rows, rho, HARM_GRID) >= harmT;
  const safeRejects = (rho: number) => mixtureLogLR(rows, rho, INV_SAFE) >= safeT;
  const lo = Math.log(1e-3);
  const hi = Math.log(1e3);
  // The harm test rejects small ρ and stops rejecting as ρ grows; non-inferiority the other way round.
  const lower = harmRejects(Math.exp(lo))
    ? Math.exp(bisect(lo, hi, (l) => harmRejects(Math.exp(l))))
    : undefined;
  const upper = safeRejects(Math.exp(hi))
    ? Math.exp(bisect(hi, lo, (l) => safeRejects(Math.exp(l))))
    : undefined;
  return { lower, upper };
}

/** The last point from `good` towards `bad` where `pred` still holds (pred(good) is true). */
function bisect(good: number, bad: number, pred: (x: number) => boolean): number {
  for (let i = 0; i < 40; i++) {
    const mid = (good + bad) / 2;
    if (pred(mid)) good = mid;
    else bad = mid;
  }
  return good;
}
