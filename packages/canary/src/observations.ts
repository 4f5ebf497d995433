/** Requests and errors of one arm in one interval. */
export interface ArmSample {
  requests: number;
  errors: number;
}

/** Cumulative histogram of one arm in one interval: counts[i] requests took at most le[i]; le ends with +Inf. */
export interface Histogram {
  le: number[];
  counts: number[];
}

/**
 * One interval, both arms from the same query so the windows match. `null` means the arm's series
 * was missing in that interval (absent, or NaN): no data, which is neither failure nor success.
 */
export interface IntervalObservation {
  /** End of the interval (ms since the epoch); it covers (end − interval, end]. */
  end: number;
  canary: ArmSample | null;
  primary: ArmSample | null;
  latency?: { canary: Histogram | null; primary: Histogram | null };
}

/** Everything the decision needs, as fetched by a metric source. */
export interface Observations {
  /** When the canary started receiving traffic (ms since the epoch). */
  startedAt: number;
  /** Evaluation time (ms since the epoch). */
  at: number;
  intervalSeconds: number;
  /** Oldest first, consecutive, each `intervalSeconds` long. */
  intervals: IntervalObservation[];
  /** Unit of the histogram's `le` values. */
  latencyUnit?: "ms" | "s";
  /** Why some data is missing or suspect (NaN samples, server warnings); shown with the decision. */
  notes: string[];
}
