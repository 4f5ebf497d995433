import { describe, expect, it } from "vitest";
import { burnRateGuard, decide, quantile } from "./decide.ts";
import { errorRateChart, evidenceTable } from "./explain.ts";
import type { Histogram, IntervalObservation, Observations } from "./observations.ts";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const LE = [5, 10, 25, 50, 100, 250, 500, 1000, Number.POSITIVE_INFINITY];

/** A cumulative histogram with `total` requests of which `slow` took longer than 250 ms (p99 ≈ 250). */
function hist(total: number, slow: number): Histogram {
  const fast = total - slow;
  const shares = [0.1, 0.3, 0.6, 0.8, 0.95, 1];
  const counts = shares.map((s) => Math.round(fast * s));
  const tail = [Math.round(slow * 0.6), Math.round(slow * 0.9), slow].map((v) => fast + v);
  return { le: LE, counts: [...counts, ...tail] };
}

interface Spec {
  n: number;
  canary?: (i: number) => { requests: number; errors: number } | null;
  primary?: (i: number) => { requests: number; errors: number } | null;
  latency?: (i: number) => { canary: Histogram | null; primary: Histogram | null };
}

function observations(spec: Spec): Observations {
  const intervals: IntervalObservation[] = Array.from({ length: spec.n }, (_, i) => ({
    end: T0 + (i + 1) * 60_000,
    canary: spec.canary ? spec.canary(i) : { requests: 150, errors: 0 },
    primary: spec.primary ? spec.primary(i) : { requests: 2850, errors: 3 },
    ...(spec.latency ? { latency: spec.latency(i) } : {}),
  }));
  return {
    startedAt: T0,
    at: T0 + spec.n * 60_000,
    intervalSeconds: 60,
    intervals,
    latencyUnit: "ms",
    notes: [],
  };
}

describe("decide", () => {
  it("rolls back on a clear error regression, explaining counts, rates, statistic and bound", () => {
    const d = decide(observations({ n: 3, canary: () => ({ requests: 150, errors: 8 }) }));
    expect(d.decision).toBe("rollback");
    expect(d.rule).toBe("errors.harm");
    expect(d.reason).toMatch(/24\/450/);
    expect(d.reason).toMatch(/ln M = [\d.]+ ≥ ln\(1\/α\) = 5\.30 \(α = 0\.005\)/);
    expect(d.evidence.errors.bounds?.lower).toBeGreaterThan(1);
    expect(evidenceTable(d)).toContain("| errors | 24 | 9 |");
    expect(errorRateChart(d)).toContain("xychart-beta");
  });

  it("continues while healthy and inconclusive, then promotes at max duration with enough data", () => {
    const early = decide(observations({ n: 2 }));
    expect(early).toMatchObject({ decision: "continue", rule: "continue.inconclusive" });
    expect(early.reason).toContain("minimum sample");
    const late = decide(observations({ n: 30 }), { maxDurationSeconds: 1800, alphaPromote: 1e-12 });
    expect(late).toMatchObject({ decision: "promote", rule: "promote.max-duration" });
  });

  it("promotes early when the non-inferiority test is conclusive and the minimum sample is met", () => {
    const d = decide(
      observations({
        n: 10,
        canary: () => ({ requests: 3000, errors: 30 }),
        primary: () => ({ requests: 57000, errors: 570 }),
      }),
    );
    expect(d).toMatchObject({ decision: "promote", rule: "promote.non-inferior" });
    expect(d.evidence.errors.bounds?.upper).toBeLessThan(1.5);
  });

  it("holds, never rolls back, when the canary has no traffic or no series", () => {
    expect(decide(observations({ n: 10, canary: () => null }))).toMatchObject({
      decision: "hold",
      rule: "hold.no-canary-data",
    });
    expect(decide(observations({ n: 10, canary: () => ({ requests: 0, errors: 0 }) })).rule).toBe(
      "hold.no-canary-data",
    );
    expect(decide(observations({ n: 0 })).decision).toBe("hold");
  });

  it("holds without a baseline and when the last interval had no canary traffic", () => {
    expect(decide(observations({ n: 5, primary: () => null })).rule).toBe("hold.no-primary-data");
    const gap = decide(
      observations({ n: 5, canary: (i) => (i === 4 ? null : { requests: 150, errors: 0 }) }),
    );
    expect(gap).toMatchObject({ decision: "hold", rule: "hold.no-recent-traffic" });
    expect(gap.evidence.missingIntervals.canary).toBe(1);
  });

  it("holds at max duration with too little data instead of promoting", () => {
    const d = decide(observations({ n: 30, canary: () => ({ requests: 2, errors: 0 }) }));
    expect(d).toMatchObject({ decision: "hold", rule: "hold.insufficient-data" });
  });

  it("does not let a few missing intervals look like failures or successes", () => {
    const withGaps = decide(
      observations({ n: 20, canary: (i) => (i % 3 === 0 ? null : { requests: 150, errors: 0 }) }),
      { maxDurationSeconds: 3600 },
    );
    expect(withGaps.decision).toBe("continue");
    expect(withGaps.evidence.canary.requests).toBe(150 * 13);
  });

  it("rolls back on a latency regression at the boundary nearest the primary's p99", () => {
    const d = decide(
      observations({
        n: 5,
        latency: () => ({ canary: hist(150, 15), primary: hist(2850, 28) }),
      }),
    );
    expect(d).toMatchObject({ decision: "rollback", rule: "latency.harm" });
    expect(d.evidence.latency).toMatchObject({ boundary: 250, boundarySource: "primary-p99", unit: "ms" });
    expect(d.reason).toContain("longer than 250 ms");
  });

  it("uses the SLO's bucket when set, and splits α between the two tests", () => {
    const d = decide(
      observations({ n: 5, latency: () => ({ canary: hist(150, 1), primary: hist(2850, 28) }) }),
      { latency: { slo: 480 } },
    );
    expect(d.evidence.latency).toMatchObject({ boundary: 500, boundarySource: "slo", alpha: 0.005 });
    expect(d.evidence.errors.alpha).toBe(0.005);
    expect(d.decision).toBe("continue");
  });

  it("will not promote on missing latency data when a latency SLO is set", () => {
    const d = decide(observations({ n: 30 }), { latency: { slo: 250 }, promoteMargin: 1.01 });
    expect(d).toMatchObject({ decision: "hold", rule: "hold.latency-data-missing" });
    const noSlo = decide(observations({ n: 30 }), { promoteMargin: 1.01 });
    expect(noSlo.decision).toBe("promote");
    expect(noSlo.evidence.latencyNote).toContain("no latency histogram");
  });

  it("fires the burn-rate guard on a canary burning its budget, not on one error at low traffic", () => {
    const burning = decide(
      observations({
        n: 10,
        canary: () => ({ requests: 150, errors: 4 }),
        primary: () => ({ requests: 2850, errors: 70 }),
      }),
      { slo: { availability: 0.999 } },
    );
    expect(burning).toMatchObject({ decision: "rollback", rule: "burn-rate" });
    const one = burnRateGuard(
      observations({ n: 2, canary: () => ({ requests: 10, errors: 1 }) }).intervals,
      60,
      120,
      0.999,
      10,
    );
    expect(one.every((b) => !b.fired)).toBe(true);
    expect(one[0]).toMatchObject({ scaledLong: 60, scaledShort: 60 });
  });

  it("estimates quantiles like histogram_quantile", () => {
    expect(quantile({ le: [10, 20, Number.POSITIVE_INFINITY], counts: [50, 100, 100] }, 0.75)).toBe(15);
    expect(quantile({ le: [10, Number.POSITIVE_INFINITY], counts: [0, 0] }, 0.5)).toBeUndefined();
  });
});
