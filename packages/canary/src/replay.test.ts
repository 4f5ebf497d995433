import { PlatformError } from "@platform/core";
import { describe, expect, it } from "vitest";
import { evaluateGate } from "./gate.ts";
import { evaluateRange, increase, parseOpenMetrics, replayBackend } from "./replay.ts";
import { namedScenario, SCENARIO_DECISIONS, type ScenarioName, scenarioOpenMetrics } from "./scenarios.ts";
import { planQueries } from "./sources.ts";

const START = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("OpenMetrics parsing", () => {
  it("reads labels with escapes, NaN/±Inf values, timestamps in seconds, and ignores exemplars", () => {
    const s = parseOpenMetrics(
      [
        "# TYPE x counter",
        'x_total{a="q\\"uote",b="back\\\\slash\\n"} 1 10.5',
        'x_total{a="q\\"uote",b="back\\\\slash\\n"} NaN 11 # {trace_id="abc"} 1 10.9',
        "y +Inf 12",
        "# EOF",
      ].join("\n"),
    );
    expect(s[0]?.labels).toEqual({ __name__: "x_total", a: 'q"uote', b: "back\\slash\n" });
    expect(s[0]?.points).toEqual([
      { t: 10_500, v: 1 },
      { t: 11_000, v: Number.NaN },
    ]);
    expect(s[1]?.points[0]?.v).toBe(Number.POSITIVE_INFINITY);
  });

  it("rejects truncated files, missing timestamps and garbage with the line", () => {
    const code = (text: string) => {
      try {
        parseOpenMetrics(text);
      } catch (err) {
        return err instanceof PlatformError ? `${err.code}:${err.line ?? ""}` : "other";
      }
      return "ok";
    };
    expect(code("x 1 1\n")).toBe("REPLAY_NO_EOF:");
    expect(code("x 1\n# EOF\n")).toBe("REPLAY_NO_TIMESTAMP:1");
    expect(code('# HELP x\nx{a="1" 1 1\n# EOF')).toBe("REPLAY_PARSE:2");
    expect(code("x 1 1\n# EOF")).toBe("ok");
  });
});

describe("increase() as Prometheus computes it", () => {
  const pts = (vals: Array<[number, number]>) => vals.map(([t, v]) => ({ t: t * 1000, v }));

  it("extrapolates to the window edges and handles counter resets", () => {
    // Samples every 15 s, 7 s into each slot: 4 samples in a 60 s window, 45 s apart end to end.
    const p = pts([
      [7, 100],
      [22, 110],
      [37, 120],
      [52, 130],
    ]);
    // rise 30 over 45 s, extrapolated by 7 s at the start (< 1.1 × 15) and 8 s at the end: 30 × 60/45.
    expect(increase(p, 0, 60_000)).toBeCloseTo(40, 10);
    const reset = pts([
      [7, 100],
      [22, 110],
      [37, 5],
      [52, 15],
    ]);
    expect(increase(reset, 0, 60_000)).toBeCloseTo((15 - 100 + 110) * (60 / 45), 10);
    expect(increase(pts([[7, 1]]), 0, 60_000)).toBeUndefined();
  });

  it("does not extrapolate below the counter's zero point", () => {
    const p = pts([
      [7, 1],
      [22, 11],
    ]);
    // toZero = 15 × 1/10 = 1.5 s < 7 s; end gap 38 s > 16.5 s, so only half an interval (7.5 s) is added.
    expect(increase(p, 0, 60_000)).toBeCloseTo(10 * ((15 + 1.5 + 7.5) / 15), 10);
  });

  it("propagates NaN through the sum", () => {
    const series = parseOpenMetrics(
      'm_total{w="a",c="1"} 1 7\nm_total{w="a",c="1"} NaN 22\nm_total{w="a",c="2"} 1 7\nm_total{w="a",c="2"} 2 22\n# EOF',
    );
    const r = evaluateRange(
      series,
      { metric: "m_total", matchers: [{ name: "w", op: "=~", value: "a|b" }], windowSeconds: 60, by: ["w"] },
      { start: 60_000, end: 60_000, stepSeconds: 60 },
    );
    expect(r).toHaveLength(1);
    expect(r[0]?.points[0]?.v).toBeNaN();
  });
});

describe("replayed scenarios through the Istio and Cilium sources", () => {
  const expected: Record<ScenarioName, [string, string]> = SCENARIO_DECISIONS;
  for (const mesh of ["istio", "cilium"] as const) {
    for (const [name, [decision, rule]] of Object.entries(expected) as Array<
      [ScenarioName, [string, string]]
    >) {
      it(`${mesh}: ${name} → ${decision} (${rule})`, async () => {
        const spec = { ...namedScenario(name, START), mesh };
        const backend = replayBackend(parseOpenMetrics(scenarioOpenMetrics(spec)));
        const d = await evaluateGate(
          {
            mesh,
            namespace: "demo",
            service: "podinfo",
            startedAt: START,
            at: START + 20 * 60_000,
            maxDurationSeconds: 1200,
            // Healthy scenarios end at max duration; keep the early-promotion test out of the way.
            decide: { alphaPromote: 1e-9 },
          },
          { backend },
        );
        expect([d.decision, d.rule], d.reason).toEqual([decision, rule]);
        if (name === "healthy") {
          // ~100 rps × 5% × 20 min, counted without loss through increase() windows.
          expect(d.evidence.canary.requests).toBeGreaterThan(5400);
          expect(d.evidence.canary.requests).toBeLessThan(6600);
          expect(d.evidence.latency?.boundary).toBe(mesh === "istio" ? 250 : 0.25);
        }
        if (name === "nan") expect(d.evidence.notes.join(" ")).toContain("NaN");
      });
    }
  }

  it("finds the canary's start from the first interval with traffic when not told", async () => {
    const backend = replayBackend(parseOpenMetrics(scenarioOpenMetrics(namedScenario("error-spike", START))));
    const d = await evaluateGate(
      { mesh: "istio", namespace: "demo", service: "podinfo", maxDurationSeconds: 3600 },
      { backend },
    );
    expect(d.decision).toBe("rollback");
    expect(Math.abs(d.evidence.startedAt - START)).toBeLessThan(60_000);
  });

  it("refuses custom PromQL, which it cannot evaluate", async () => {
    const backend = replayBackend([]);
    const plan = planQueries(
      {
        mesh: "custom",
        namespace: "demo",
        service: "podinfo",
        queries: { requests: "sum(x)", errors: "sum(y)" },
      },
      60,
      false,
    );
    await expect(backend.range(plan.requests, { start: 0, end: 0, stepSeconds: 60 })).rejects.toMatchObject({
      code: "REPLAY_UNSUPPORTED_QUERY",
    });
  });
});
