// The canary gate against a REAL Prometheus (Debian's package, installed by test/peers/prometheus.mjs):
// generated mesh scenarios are backfilled with `promtool tsdb create-blocks-from openmetrics`, the
// server runs on 127.0.0.1 over those blocks, and the gate queries it through the HTTP client and
// the Istio/Cilium sources. The same file replayed offline must reach the same decision with the
// same counts. Managed-Prometheus auth runs through a local proxy that demands an Entra bearer token
// for the Azure Monitor scope, obtained via GitHub OIDC federation from the fakes.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAzureCredential } from "@platform/azure/credential";
import {
  AZURE_MONITOR_PROMETHEUS_SCOPE,
  evaluateGate,
  type GateInput,
  type Mesh,
  namedScenario,
  openBackend,
  parseOpenMetrics,
  replayBackend,
  SCENARIO_DECISIONS,
  type ScenarioName,
  type ScenarioSpec,
  scenarioOpenMetrics,
} from "@platform/canary";
import { memoryLogger } from "@platform/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeJwt,
  type EntraFake,
  type GitHubOidcFake,
  startEntraFake,
  startGitHubOidcFake,
} from "../fakes/entra.ts";
import { type RunningPrometheus, requirePrometheus, startPrometheus } from "../peers/prometheus.ts";

const peer = requirePrometheus();
const MINUTES = 20;
// Recent data (Prometheus keeps it), on a whole minute so evaluation windows line up.
const START = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
const AT = START + MINUTES * 60_000;

const EXPECTED: Record<ScenarioName, [string, string]> = SCENARIO_DECISIONS;
const NAMES = Object.keys(EXPECTED) as ScenarioName[];
// Every scenario in its own namespace, for both meshes, all in one TSDB.
const SPECS: Array<ScenarioSpec & { name: ScenarioName; mesh: Mesh & ("istio" | "cilium") }> = (
  ["istio", "cilium"] as const
).flatMap((mesh) =>
  NAMES.map((name) => ({ ...namedScenario(name, START, MINUTES), name, mesh, namespace: name })),
);
const TEXT = scenarioOpenMetrics(SPECS);

function input(name: ScenarioName, mesh: Mesh): GateInput {
  return {
    mesh,
    namespace: name,
    service: "podinfo",
    startedAt: START,
    at: AT,
    maxDurationSeconds: MINUTES * 60,
    // The healthy scenarios should end at max duration rather than by early promotion.
    decide: { alphaPromote: 1e-9 },
  };
}

describe.skipIf(!peer.ok)("canary gate against a real Prometheus backfilled with promtool", () => {
  let prom: RunningPrometheus;
  beforeAll(async () => {
    prom = await startPrometheus(peer, TEXT);
  });
  afterAll(async () => {
    await prom?.stop();
  });

  for (const mesh of ["istio", "cilium"] as const) {
    for (const name of NAMES) {
      const [decision, rule] = EXPECTED[name];
      it(`${mesh}: ${name} → ${decision} (${rule}), the same as the offline replay`, async () => {
        const live = await evaluateGate(input(name, mesh), {
          backend: await openBackend({ url: prom.url, retry: { sleep: async () => {} } }),
        });
        expect([live.decision, live.rule], live.reason).toEqual([decision, rule]);

        const replayed = await evaluateGate(input(name, mesh), {
          backend: replayBackend(parseOpenMetrics(TEXT)),
        });
        expect([replayed.decision, replayed.rule]).toEqual([decision, rule]);
        // Same extrapolation rules, same windows: the counts agree to rounding.
        expect(
          Math.abs(live.evidence.canary.requests - replayed.evidence.canary.requests),
        ).toBeLessThanOrEqual(live.evidence.intervals);
        expect(Math.abs(live.evidence.primary.errors - replayed.evidence.primary.errors)).toBeLessThanOrEqual(
          live.evidence.intervals,
        );
        if (live.evidence.latency)
          expect(live.evidence.latency.boundary).toBe(replayed.evidence.latency?.boundary);
        if (name === "nan") expect(live.evidence.notes.join(" ")).toContain("NaN");
      });
    }
  }

  it("reports a query Prometheus rejects as an error decision with the server's message", async () => {
    const d = await evaluateGate(
      {
        mesh: "custom",
        namespace: "healthy",
        service: "podinfo",
        startedAt: START,
        at: AT,
        queries: { requests: "sum by ({{label}}) (rate(", errors: "sum(x)" },
      },
      { backend: await openBackend({ url: prom.url }) },
    );
    expect(d.decision).toBe("error");
    expect(d.error?.code).toBe("PROM_BAD_QUERY");
    expect(d.reason).toMatch(/parse error/);
  });

  it("runs custom PromQL templates against the server", async () => {
    const d = await evaluateGate(
      {
        mesh: "custom",
        namespace: "error-spike",
        service: "podinfo",
        startedAt: START,
        at: AT,
        maxDurationSeconds: MINUTES * 60,
        queries: {
          requests:
            'sum by ({{label}}) (increase(istio_requests_total{reporter="destination", destination_workload_namespace="{{namespace}}", {{selector}}}[{{interval}}]))',
          errors:
            'sum by ({{label}}) (increase(istio_requests_total{reporter="destination", destination_workload_namespace="{{namespace}}", {{selector}}, response_code=~"5.."}[{{interval}}]))',
        },
      },
      { backend: await openBackend({ url: prom.url }) },
    );
    expect([d.decision, d.rule]).toEqual(["rollback", "errors.harm"]);
  });

  describe("Azure Monitor managed Prometheus auth (bearer token proxy, fake Entra)", () => {
    let github: GitHubOidcFake;
    let entra: EntraFake;
    let proxy: Server;
    let proxyUrl: string;
    const seen: Array<{ status: number; auth: boolean }> = [];
    let throttleNext = 0;

    beforeAll(async () => {
      github = await startGitHubOidcFake();
      entra = await startEntraFake({ trust: github });
      // Like the managed endpoint: 401 without a valid token for the Prometheus scope, 429 when throttled.
      proxy = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", async () => {
          const auth = req.headers.authorization ?? "";
          const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
          const issued = entra.issued.find((i) => i.accessToken === token);
          const aud = decodeJwt(token)?.payload.aud;
          const valid =
            issued?.scope === AZURE_MONITOR_PROMETHEUS_SCOPE &&
            aud === "https://prometheus.monitor.azure.com";
          if (!valid) {
            seen.push({ status: 401, auth: token !== "" });
            res.writeHead(401, { "content-type": "application/json" });
            res.end(
              JSON.stringify({
                status: "error",
                errorType: "unauthorized",
                error: "invalid or missing bearer token",
              }),
            );
            return;
          }
          if (throttleNext > 0) {
            throttleNext--;
            seen.push({ status: 429, auth: true });
            res.writeHead(429, { "content-type": "application/json", "retry-after": "0" });
            res.end(JSON.stringify({ status: "error", errorType: "too_many_requests", error: "throttled" }));
            return;
          }
          const upstream = await fetch(`${prom.url}${req.url}`, {
            method: req.method,
            headers: { "content-type": req.headers["content-type"] ?? "application/x-www-form-urlencoded" },
            body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
          });
          seen.push({ status: upstream.status, auth: true });
          res.writeHead(upstream.status, { "content-type": "application/json" });
          res.end(await upstream.text());
        });
      });
      await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      proxy?.closeAllConnections();
      await new Promise<void>((r) => proxy?.close(() => r()));
      await Promise.all([github?.close(), entra?.close()]);
    });

    it("gets a token for the Azure Monitor scope through GitHub OIDC, masks it, and decides as without the proxy", async () => {
      const log = memoryLogger();
      const credential = createAzureCredential({
        env: {
          ...github.env,
          AZURE_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
          AZURE_CLIENT_ID: "11111111-2222-3333-4444-555555555555",
          AZURE_AUTHORITY_HOST: entra.url,
        },
        disableInstanceDiscovery: true,
        clientOptions: { tlsOptions: { ca: entra.ca } },
        log,
      });
      throttleNext = 1;
      const d = await evaluateGate(input("error-spike", "istio"), {
        backend: await openBackend({
          url: proxyUrl,
          auth: { type: "azure", credential },
          log,
          retry: { sleep: async () => {} },
        }),
        log,
      });
      expect([d.decision, d.rule]).toEqual(["rollback", "errors.harm"]);
      expect(entra.issued.map((i) => i.scope)).toEqual([AZURE_MONITOR_PROMETHEUS_SCOPE]);
      // The 429 was retried; both queries of the evaluation then went through with one cached token.
      expect(seen.filter((s) => s.status === 429)).toHaveLength(1);
      expect(seen.filter((s) => s.status === 200).length).toBeGreaterThanOrEqual(2);
      const token = entra.issued[0]!.accessToken;
      expect(log.masker.mask(`Bearer ${token}`)).toBe("Bearer ***");
    });

    it("turns a missing token into an error decision, not a rollback", async () => {
      const d = await evaluateGate(input("error-spike", "istio"), {
        backend: await openBackend({ url: proxyUrl }),
      });
      expect(d.decision).toBe("error");
      expect(d.error?.code).toBe("PROM_UNAUTHORIZED");
      expect(seen.some((s) => s.status === 401 && !s.auth)).toBe(true);
    });
  });
});
