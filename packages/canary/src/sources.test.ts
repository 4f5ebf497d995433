import { PlatformError } from "@platform/core";
import { describe, expect, it } from "vitest";
import { evaluateGate, watchGate } from "./gate.ts";
import type { PrometheusClient, QueryResult } from "./prometheus.ts";
import { escapeLabelValue, escapeRegex, parseDuration, renderTemplate } from "./promql.ts";
import { parseOpenMetrics, replayBackend } from "./replay.ts";
import { namedScenario, scenarioOpenMetrics } from "./scenarios.ts";
import { fetchObservations, type MetricsBackend, planQueries, prometheusBackend } from "./sources.ts";

const START = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("queries per mesh", () => {
  it("Istio: both arms in one query grouped by workload and response code, Flagger naming", () => {
    const p = planQueries({ mesh: "istio", namespace: "shop", service: "cart" }, 60, true);
    expect(p.requests.promql).toBe(
      'sum by (destination_workload, response_code) (increase(istio_requests_total{reporter="destination", destination_workload_namespace="shop", destination_workload=~"cart|cart-primary"}[1m]))',
    );
    expect(p.latency?.promql).toBe(
      'sum by (destination_workload, le) (increase(istio_request_duration_milliseconds_bucket{reporter="destination", destination_workload_namespace="shop", destination_workload=~"cart|cart-primary"}[1m]))',
    );
  });

  it("Cilium/Hubble: httpV2 metrics by destination workload and status, seconds histogram", () => {
    const p = planQueries({ mesh: "cilium", namespace: "shop", service: "cart" }, 120, true);
    expect(p.requests.promql).toContain(
      'hubble_http_requests_total{reporter="server", destination_namespace="shop"',
    );
    expect(p.requests.promql).toContain("sum by (destination_workload, status)");
    expect(p.latency?.promql).toContain("hubble_http_request_duration_seconds_bucket");
    expect(p.latency?.promql).toContain("[2m]");
    expect(p.latencyUnit).toBe("s");
  });

  it("escapes selector values so they cannot break out of the string or the regex", () => {
    const p = planQueries(
      {
        mesh: "istio",
        namespace: "shop",
        service: "cart",
        selectors: { label: "destination_version", canary: 'v2"} or vector(1) #', primary: "v1.0" },
      },
      60,
      false,
    );
    expect(p.requests.promql).toContain('destination_version=~"v2\\"\\\\} or vector\\\\(1\\\\) #|v1\\\\.0"');
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeRegex("a.b|c")).toBe("a\\.b\\|c");
  });

  it("rejects invalid names and equal arms", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof PlatformError ? `${err.code}/${err.input}` : "other";
      }
      return "ok";
    };
    expect(code(() => planQueries({ mesh: "istio", namespace: "Shop!", service: "cart" }, 60, false))).toBe(
      "CANARY_NAMESPACE_INVALID/namespace",
    );
    expect(code(() => planQueries({ mesh: "istio", namespace: "shop", service: "cart}" }, 60, false))).toBe(
      "CANARY_SERVICE_INVALID/service",
    );
    expect(
      code(() =>
        planQueries(
          { mesh: "istio", namespace: "shop", service: "cart", selectors: { primary: "cart" } },
          60,
          false,
        ),
      ),
    ).toBe("CANARY_SELECTORS_EQUAL/canary-selector");
    expect(code(() => planQueries({ mesh: "custom", namespace: "shop", service: "cart" }, 60, false))).toBe(
      "CANARY_QUERIES_MISSING/queries",
    );
  });

  it("fills custom templates and refuses unknown placeholders", () => {
    const p = planQueries(
      {
        mesh: "custom",
        namespace: "shop",
        service: "cart",
        queries: {
          requests:
            'sum by ({{label}}) (increase(http_requests_total{namespace="{{namespace}}", {{selector}}}[{{interval}}]))',
          errors:
            'sum by ({{ label }}) (increase(http_requests_total{namespace="{{namespace}}", {{selector}}, code=~"5.."}[{{interval}}]))',
        },
      },
      300,
      false,
    );
    expect(p.requests.promql).toBe(
      'sum by (destination_workload) (increase(http_requests_total{namespace="shop", destination_workload=~"cart|cart-primary"}[5m]))',
    );
    expect(p.errors?.promql).toContain('code=~"5.."}[5m]');
    expect(() =>
      renderTemplate("{{pod}}", { namespace: "a", service: "b", selector: "", label: "l", interval: "1m" }),
    ).toThrow(/Unknown placeholder/);
  });

  it("parses durations", () => {
    expect(parseDuration("1m30s")).toBe(90);
    expect(parseDuration("2h")).toBe(7200);
    expect(parseDuration("45")).toBe(45);
    expect(() => parseDuration("soon", "interval")).toThrow(PlatformError);
  });
});

/** A PrometheusClient answering range queries from a replay, as the real server would. */
function fakeClient(text: string, warnings: string[] = []): PrometheusClient & { queries: string[] } {
  const series = parseOpenMetrics(text);
  const replay = replayBackend(series);
  const queries: string[] = [];
  return {
    url: "http://fake",
    queries,
    async query() {
      throw new Error("not used");
    },
    async queryRange(promql, range): Promise<QueryResult> {
      queries.push(promql);
      const plan = planQueries(
        { mesh: "istio", namespace: "demo", service: "podinfo" },
        range.stepSeconds,
        true,
      );
      const q = [plan.requests, plan.latency].find((x) => x?.promql === promql);
      const r = await replay.range(q!, {
        start: Number(range.start),
        end: Number(range.end),
        stepSeconds: range.stepSeconds,
      });
      return { data: { resultType: "matrix", result: r.series }, warnings, infos: [] };
    },
  };
}

describe("fetching observations", () => {
  it("aligns both arms per interval and passes server warnings on", async () => {
    const client = fakeClient(scenarioOpenMetrics(namedScenario("healthy", START, 10)), ["partial response"]);
    const obs = await fetchObservations(
      { mesh: "istio", namespace: "demo", service: "podinfo" },
      prometheusBackend(client),
      {
        at: START + 10 * 60_000,
        startedAt: START,
        intervalSeconds: 60,
        lookbackSeconds: 600,
        latency: true,
      },
    );
    expect(client.queries).toHaveLength(2);
    expect(obs.intervals).toHaveLength(10);
    expect(obs.intervals[0]?.end).toBe(START + 60_000);
    for (const i of obs.intervals) {
      expect(i.canary?.requests).toBeGreaterThan(200);
      expect(i.primary?.requests).toBeGreaterThan(5000);
      expect(i.latency?.canary?.le.at(-1)).toBe(Number.POSITIVE_INFINITY);
    }
    expect(obs.notes).toContain("Prometheus: partial response");
  });

  it("returns no intervals (and no queries) before one whole interval has passed", async () => {
    const client = fakeClient("# EOF\n");
    const obs = await fetchObservations(
      { mesh: "istio", namespace: "demo", service: "podinfo" },
      prometheusBackend(client),
      {
        at: START + 30_000,
        startedAt: START,
        intervalSeconds: 60,
        lookbackSeconds: 600,
        latency: true,
      },
    );
    expect(obs.intervals).toEqual([]);
    expect(client.queries).toEqual([]);
  });
});

describe("the gate", () => {
  it("turns query failures after retries into an error decision with the hint", async () => {
    const backend: MetricsBackend = {
      describe: "https://prom.example",
      async range() {
        throw new PlatformError("PROM_UNAVAILABLE", "Prometheus was unavailable after retries (HTTP 503)", {
          category: "environment",
          hint: "retry later",
        });
      },
    };
    const d = await evaluateGate(
      { mesh: "istio", namespace: "demo", service: "podinfo", startedAt: START, at: START + 600_000 },
      { backend },
    );
    expect(d).toMatchObject({
      decision: "error",
      rule: "error.query",
      error: { code: "PROM_UNAVAILABLE", hint: "retry later" },
    });
  });

  it("still throws configuration mistakes (exit code 2), not an error decision", async () => {
    const backend = replayBackend([]);
    await expect(
      evaluateGate({ mesh: "istio", namespace: "NOPE", service: "podinfo" }, { backend }),
    ).rejects.toMatchObject({ code: "CANARY_NAMESPACE_INVALID" });
  });

  it("watches until a terminal decision, pinning the start and the latency boundary", async () => {
    const backend = replayBackend(parseOpenMetrics(scenarioOpenMetrics(namedScenario("error-spike", START))));
    let now = START + 3 * 60_000;
    const seen: string[] = [];
    const { final, decisions } = await watchGate(
      { mesh: "istio", namespace: "demo", service: "podinfo", startedAt: START, maxDurationSeconds: 1200 },
      {
        backend: { ...backend, lastTimestamp: undefined },
        clock: () => new Date(now),
        sleep: async (ms) => {
          now += ms;
        },
        onDecision: (d) => seen.push(d.decision),
      },
    );
    expect(final.decision).toBe("rollback");
    expect(decisions.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe("rollback");
    expect(seen.slice(0, -1).every((s) => s === "continue")).toBe(true);
  });

  it("steps through a replay file without sleeping and says when the gate would have decided", async () => {
    const backend = replayBackend(parseOpenMetrics(scenarioOpenMetrics(namedScenario("error-spike", START))));
    const { final, decisions } = await watchGate(
      { mesh: "istio", namespace: "demo", service: "podinfo", maxDurationSeconds: 1200 },
      {
        backend,
        sleep: async () => {
          throw new Error("a replay must not sleep");
        },
      },
    );
    expect(final.decision).toBe("rollback");
    // The spike starts at minute 5; the first looks see a healthy canary.
    expect(decisions[0]?.decision).not.toBe("rollback");
    expect(final.evidence.ageSeconds).toBeGreaterThan(5 * 60);
    expect(final.evidence.ageSeconds).toBeLessThanOrEqual(10 * 60);
  });
});
