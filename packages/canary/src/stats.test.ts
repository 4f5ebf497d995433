import { describe, expect, it } from "vitest";
import { poisson, prng } from "./random.ts";
import { type PairCounts, ratioBounds, sequentialTest } from "./stats.ts";

interface Scenario {
  rps: number;
  weight: number;
  primaryRate: number;
  canaryRate: number;
  looks: number;
  /** Traffic share drifts between looks (autoscaling, retries); the test must stay valid. */
  drift?: boolean;
}

/** Runs `sims` canaries, looking after every interval; returns how many rejected and when. */
function simulate(
  s: Scenario,
  sims: number,
  seed: number,
  test: "harm" | "nonInferiority",
  opts: Parameters<typeof sequentialTest>[1],
) {
  const rng = prng(seed);
  const looks: number[] = [];
  for (let i = 0; i < sims; i++) {
    const h: PairCounts[] = [];
    for (let t = 0; t < s.looks; t++) {
      const w = s.drift ? s.weight * (0.5 + rng()) : s.weight;
      const canaryTotal = poisson(rng, s.rps * 60 * w);
      const primaryTotal = poisson(rng, s.rps * 60 * (1 - w));
      h.push({
        canaryTotal,
        canaryBad: poisson(rng, canaryTotal * s.canaryRate),
        primaryTotal,
        primaryBad: poisson(rng, primaryTotal * s.primaryRate),
      });
      if (sequentialTest(h, opts)[test].rejected) {
        looks.push(t + 1);
        break;
      }
    }
  }
  looks.sort((a, b) => a - b);
  return { rate: looks.length / sims, median: looks[looks.length >> 1] };
}

describe("mixture SPRT on the conditional binomial", () => {
  it("keeps the false-alarm rate below α however often it looks (Ville), with steady and drifting traffic", () => {
    // A generous α makes the check sharp: 1,000 canaries × 40 looks each.
    for (const s of [
      { rps: 100, weight: 0.05, primaryRate: 0.001, canaryRate: 0.001, looks: 40 },
      { rps: 1000, weight: 0.05, primaryRate: 0.01, canaryRate: 0.01, looks: 40, drift: true },
      { rps: 20, weight: 0.2, primaryRate: 0.05, canaryRate: 0.05, looks: 40 },
    ]) {
      const r = simulate(s, 1000, 7, "harm", { alpha: 0.05 });
      expect(r.rate, JSON.stringify(s)).toBeLessThanOrEqual(0.05);
    }
  }, 60_000);

  it("stays valid for a canary strictly better than the primary (composite null r ≤ r0)", () => {
    const r = simulate(
      { rps: 200, weight: 0.1, primaryRate: 0.01, canaryRate: 0.005, looks: 40 },
      1000,
      11,
      "harm",
      { alpha: 0.05 },
    );
    expect(r.rate).toBeLessThanOrEqual(0.01);
  });

  it("detects clear regressions quickly at the default α", () => {
    const fivefold = simulate(
      { rps: 100, weight: 0.05, primaryRate: 0.001, canaryRate: 0.005, looks: 30 },
      500,
      3,
      "harm",
      {},
    );
    expect(fivefold.rate).toBeGreaterThan(0.95);
    expect(fivefold.median).toBeLessThanOrEqual(10);
    const fiftyfold = simulate(
      { rps: 10, weight: 0.05, primaryRate: 0.001, canaryRate: 0.05, looks: 30 },
      500,
      5,
      "harm",
      {},
    );
    expect(fiftyfold.rate).toBeGreaterThan(0.99);
    expect(fiftyfold.median).toBeLessThanOrEqual(3);
  });

  it("bounds wrong early promotions: a canary exactly r1 times worse is rarely shown non-inferior", () => {
    const r = simulate(
      { rps: 1000, weight: 0.05, primaryRate: 0.01, canaryRate: 0.015, looks: 60 },
      1000,
      13,
      "nonInferiority",
      { r1: 1.5, alphaPromote: 0.05 },
    );
    expect(r.rate).toBeLessThanOrEqual(0.05);
    const healthy = simulate(
      { rps: 1000, weight: 0.05, primaryRate: 0.01, canaryRate: 0.01, looks: 60 },
      300,
      17,
      "nonInferiority",
      { r1: 1.5 },
    );
    expect(healthy.rate).toBeGreaterThan(0.9);
  }, 30_000);

  it("ignores intervals without bad events or without traffic on an arm", () => {
    const r = sequentialTest([
      { canaryTotal: 0, canaryBad: 0, primaryTotal: 1000, primaryBad: 5 },
      { canaryTotal: 50, canaryBad: 0, primaryTotal: 950, primaryBad: 0 },
      { canaryTotal: Number.NaN, canaryBad: Number.NaN, primaryTotal: 900, primaryBad: 1 },
    ]);
    expect(r.informativeIntervals).toBe(0);
    expect(r.harm.logLR).toBe(0);
    expect(r.harm.rejected).toBe(false);
    expect(r.canary).toEqual({ total: 50, bad: 0 });
  });

  it("reports a ratio estimate and anytime-valid bounds around it", () => {
    const h = Array.from({ length: 10 }, () => ({
      canaryTotal: 3000,
      canaryBad: 30,
      primaryTotal: 57000,
      primaryBad: 57,
    }));
    const r = sequentialTest(h);
    expect(r.ratio).toBeCloseTo(10, 5);
    expect(r.harm.rejected).toBe(true);
    const b = ratioBounds(h);
    expect(b.lower).toBeGreaterThan(5);
    expect(b.lower).toBeLessThan(10);
    expect(b.upper).toBeGreaterThan(10);
    expect(b.upper).toBeLessThan(20);
  });
});
