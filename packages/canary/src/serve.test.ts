import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger, PlatformError } from "@platform/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecisionKind } from "./decide.ts";
import { openBackend } from "./gate.ts";
import { parseOpenMetrics, replayBackend } from "./replay.ts";
import { namedScenario, type ScenarioName, scenarioOpenMetrics } from "./scenarios.ts";
import { CANARY_SERVE_MARKDOWN } from "./serve/docs.ts";
import { type FlaggerHook, flaggerStatus } from "./serve/flagger.ts";
import type { ServeAnswer } from "./serve/judge.ts";
import { type CanaryServer, startCanaryServer } from "./serve.ts";
import type { MetricsBackend } from "./sources.ts";

const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const MINUTES = 30;
// One replay file holding one service per scenario, all in the namespace Flagger's docs use.
const SERVICES: Record<string, ScenarioName> = {
  podinfo: "healthy",
  bad: "error-spike",
  quiet: "no-traffic",
  sparse: "low-traffic",
};

let dir: string;
let replayFile: string;
let server: CanaryServer;
const log = memoryLogger();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "canary-serve-"));
  replayFile = join(dir, "mesh.om");
  await writeFile(
    replayFile,
    scenarioOpenMetrics(
      Object.entries(SERVICES).map(([service, name]) => ({
        ...namedScenario(name, START, MINUTES),
        namespace: "test",
        service,
      })),
    ),
  );
  server = await startCanaryServer({
    port: 0,
    backend: await openBackend({ url: `file://${replayFile}` }),
    // 20 minutes of a 30-minute replay: the healthy canary reaches its maximum duration.
    defaults: { mesh: "istio", maxDurationSeconds: 1200 },
    log,
  });
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: ServeAnswer & { error?: { code: string; message: string; input?: string; hint?: string } };
}

/** POSTs as Flagger's webhook client does: JSON with Content-Type application/json. */
async function post(base: string, path: string, payload: unknown): Promise<Reply> {
  const r = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
  return { status: r.status, body: (await r.json()) as Reply["body"] };
}

async function get(base: string, path: string): Promise<Reply> {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: (await r.json()) as Reply["body"] };
}

/** Flagger's webhook payload (docs.flagger.app/usage/webhooks), with the checksum recent versions add. */
function flaggerPayload(name: string, metadata: Record<string, string> = {}, checksum = `${name}-5d8f7c9b6`) {
  return {
    name,
    namespace: "test",
    phase: "Progressing",
    checksum,
    metadata: { mesh: "istio", interval: "1m", ...metadata },
  };
}

/** A payload without Flagger's checksum: no revision state, so the start is found from the metrics. */
function untracked(name: string, metadata: Record<string, string> = {}) {
  const { checksum: _, ...rest } = flaggerPayload(name, metadata);
  return rest;
}

/** Argo's conditions from the documented AnalysisTemplate, evaluated the way Argo would. */
function argoMeasurement(b: ServeAnswer): "Successful" | "Failed" | "Inconclusive" {
  if (b.rollback) return "Failed";
  if (["promote", "continue", "hold"].includes(b.decision)) return "Successful";
  return "Inconclusive";
}

describe("Flagger webhooks", () => {
  it("rollout hook: a healthy canary gets 200 and proceeds", async () => {
    const r = await post(server.url, "/flagger", flaggerPayload("podinfo"));
    expect(r.status, r.body.reason).toBe(200);
    expect(r.body).toMatchObject({
      decision: "promote",
      promote: true,
      rollback: false,
      hook: "rollout",
      proceed: true,
      canary: { namespace: "test", service: "podinfo", revision: "podinfo-5d8f7c9b6" },
    });
    // Flagger quotes non-2xx bodies in its events, so evidence is left out unless asked for.
    expect(r.body.evidence).toBeUndefined();
  });

  it("rollout hook: an error spike gets 409 with the explanation in the body", async () => {
    const r = await post(server.url, "/flagger/rollout", flaggerPayload("bad"));
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({
      decision: "rollback",
      rule: "errors.harm",
      rollback: true,
      proceed: false,
    });
    expect(r.body.reason).toContain("higher than the primary's");
    expect(r.body.reason).toMatch(/mixture SPRT/);
  });

  it("no traffic is never a rollback: 200 on the rollout hook, the confirm hooks hold", async () => {
    const payload = flaggerPayload("quiet");
    const rollout = await post(server.url, "/flagger", payload);
    expect(rollout.status).toBe(200);
    expect(rollout.body).toMatchObject({ decision: "hold", rule: "hold.no-canary-data", proceed: true });
    // At weight 0 the canary cannot have data: the first increase is allowed, later ones wait for it.
    const first = await post(server.url, "/flagger/confirm-traffic-increase", payload);
    expect(first.status).toBe(200);
    const second = await post(server.url, "/flagger/confirm-traffic-increase", payload);
    expect([second.status, second.body.proceed]).toEqual([403, false]);
    expect((await post(server.url, "/flagger/confirm-promotion", payload)).status).toBe(403);
    expect((await post(server.url, "/flagger/rollback", payload)).status).toBe(403);
    // A pre-rollout hook at weight 0 sees the same hold and lets Flagger start.
    expect((await post(server.url, "/flagger/pre-rollout", payload)).status).toBe(200);
  });

  it("confirm-promotion opens only on promote; continue keeps it closed", async () => {
    expect((await post(server.url, "/flagger/confirm-promotion", flaggerPayload("podinfo"))).status).toBe(
      200,
    );
    // Far from its maximum duration, the healthy canary is not yet shown non-inferior.
    const young = flaggerPayload("podinfo", { "max-duration": "2h" });
    const waiting = await post(server.url, "/flagger/confirm-promotion", young);
    expect([waiting.status, waiting.body.decision]).toEqual([403, "continue"]);
    expect((await post(server.url, "/flagger/confirm-traffic-increase", young)).status).toBe(200);
    expect((await post(server.url, "/flagger", young)).status).toBe(200);
    expect((await post(server.url, "/flagger/confirm-promotion", flaggerPayload("bad"))).status).toBe(409);
  });

  it("rollback hook: 200 (roll back now) only on a rollback decision", async () => {
    expect((await post(server.url, "/flagger/rollback", flaggerPayload("bad"))).status).toBe(200);
    expect((await post(server.url, "/flagger/rollback", flaggerPayload("podinfo"))).status).toBe(403);
  });

  it("takes the payload exactly as Flagger's docs show it, metadata it does not know included", async () => {
    const r = await post(server.url, "/flagger", {
      name: "podinfo",
      namespace: "test",
      phase: "Progressing",
      metadata: { test: "all", token: "16688eb5e9f289f1991c" },
    });
    expect(r.status).toBe(200);
    expect(r.body.canary).toMatchObject({ namespace: "test", service: "podinfo" });
    // No checksum: no revision to remember.
    expect(r.body.canary.revision).toBeUndefined();
  });

  it("metadata can rename the target, add evidence, and is validated with the input named", async () => {
    const renamed = await post(
      server.url,
      "/flagger",
      flaggerPayload("storefront", { service: "bad", evidence: "true" }),
    );
    expect(renamed.status).toBe(409);
    expect(renamed.body.canary.service).toBe("bad");
    expect(renamed.body.evidence?.canary.requests).toBeGreaterThan(0);

    const badMesh = await post(server.url, "/flagger", flaggerPayload("podinfo", { mesh: "linkerd" }));
    expect(badMesh.status).toBe(400);
    expect(badMesh.body.error).toMatchObject({ code: "CANARY_BAD_MESH", input: "mesh" });
    const badSelector = await post(
      server.url,
      "/flagger",
      flaggerPayload("podinfo", { "canary-selector": "nope" }),
    );
    expect(badSelector.status).toBe(400);
    expect(badSelector.body.error?.input).toBe("canary-selector");
  });

  it("answers bad payloads with 400 and a clear message, and keeps serving", async () => {
    const cases: Array<[unknown, string]> = [
      ["{not json", "not JSON"],
      ["", "no body"],
      [[], "JSON object"],
      [{ namespace: "test" }, "no name"],
      [{ name: "podinfo", namespace: "" }, "no namespace"],
      [{ name: "podinfo", namespace: "test", metadata: "mesh=istio" }, "metadata must be an object"],
      [
        { name: "podinfo", namespace: "test", metadata: { interval: { m: 1 } } },
        "metadata.interval must be a string",
      ],
      [{ name: "podinfo", namespace: "Not_A_Namespace" }, "not a valid Kubernetes namespace"],
    ];
    for (const [payload, message] of cases) {
      const r = await post(server.url, "/flagger", payload);
      expect(r.status, JSON.stringify(payload)).toBe(400);
      expect(r.body.error?.message).toContain(message);
      expect(r.body.error?.hint).toBeTruthy();
    }
    const health = await fetch(`${server.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: "ok" }]);
  });

  it("caps the body at 1 MiB (413), refuses other methods (405) and unknown paths (404)", async () => {
    const big = JSON.stringify({ ...flaggerPayload("podinfo"), pad: "x".repeat(1024 * 1024) });
    const r = await post(server.url, "/flagger", big);
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe("SERVE_BODY_TOO_LARGE");

    const wrong = await fetch(`${server.url}/flagger`);
    expect([wrong.status, wrong.headers.get("allow")]).toEqual([405, "POST"]);
    expect((await fetch(`${server.url}/argo`, { method: "DELETE" })).status).toBe(405);
    const missing = await get(server.url, "/flagger/confirm-rollout");
    expect(missing.status).toBe(404);
    expect(missing.body.error?.hint).toContain("/flagger/confirm-promotion");
    expect((await fetch(`${server.url}/healthz`, { method: "HEAD" })).status).toBe(200);
  });
});

describe("Argo Rollouts web metric provider", () => {
  it("GET with query parameters: a bad canary measures Failed, always with HTTP 200", async () => {
    const r = await get(server.url, "/argo?namespace=test&service=bad&interval=1m&revision=6c9bd8675b");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      decision: "rollback",
      rule: "errors.harm",
      rollback: true,
      promote: false,
    });
    expect(r.body.evidence?.canary.errorRate).toBeGreaterThan(0.01);
    expect(argoMeasurement(r.body)).toBe("Failed");
  });

  it("POST with jsonBody (Content-Type set by Argo): a healthy canary measures Successful", async () => {
    const r = await post(server.url, "/argo", {
      namespace: "test",
      service: "podinfo",
      revision: "6c9bd8675b",
      interval: "1m",
      evidence: false,
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ decision: "promote", promote: true, rollback: false });
    expect(r.body.evidence).toBeUndefined();
    expect(argoMeasurement(r.body)).toBe("Successful");
    // Query and body combine; the body wins.
    const put = await fetch(`${server.url}/argo?namespace=test&service=bad`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service: "podinfo" }),
    });
    expect(((await put.json()) as ServeAnswer).canary.service).toBe("podinfo");
  });

  it("no traffic holds: 200, not a rollback, measured Successful by the guard template", async () => {
    const r = await get(server.url, "/argo?namespace=test&service=quiet");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ decision: "hold", rollback: false, promote: false });
    expect(argoMeasurement(r.body)).toBe("Successful");
  });

  it("400 when namespace or service is missing or the body is not an object", async () => {
    const r = await get(server.url, "/argo?namespace=test");
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "SERVE_MISSING_TARGET", input: "service" });
    expect((await post(server.url, "/argo", "[1,2]")).status).toBe(400);
    expect((await post(server.url, "/argo", "{")).status).toBe(400);
  });
});

/** A backend shaped like a live Prometheus (no replay timestamps) whose data the test swaps. */
function liveBackend(initial: MetricsBackend) {
  const state = { inner: initial, calls: 0 };
  const backend: MetricsBackend = {
    describe: "live test backend",
    range(q, w) {
      state.calls++;
      return state.inner.range(q, w);
    },
  };
  return { backend, state };
}

function replayOf(name: ScenarioName, service = "podinfo"): MetricsBackend {
  return replayBackend(
    parseOpenMetrics(
      scenarioOpenMetrics({ ...namedScenario(name, START, MINUTES), namespace: "test", service }),
    ),
  );
}

describe("revisions, failures and timeouts", () => {
  it("starts each revision at its first request, and repeats a rollback until a new checksum", async () => {
    const live = liveBackend(replayOf("error-spike"));
    let now = START;
    const s = await startCanaryServer({
      port: 0,
      backend: live.backend,
      defaults: { mesh: "istio" },
      log: memoryLogger(),
      clock: () => new Date(now),
    });
    try {
      const first = await post(s.url, "/flagger", flaggerPayload("podinfo", {}, "rev-a"));
      expect([first.status, first.body.decision]).toEqual([200, "hold"]);
      expect(first.body.canary.startedAt).toBe(new Date(START).toISOString());

      now = START + 25 * 60_000;
      const later = await post(s.url, "/flagger", flaggerPayload("podinfo", {}, "rev-a"));
      expect([later.status, later.body.decision]).toEqual([409, "rollback"]);

      // The metrics now look fine, but the test already rejected: the rollback stands for rev-a.
      live.state.inner = replayOf("healthy");
      now += 60_000;
      const again = await post(s.url, "/flagger", flaggerPayload("podinfo", {}, "rev-a"));
      expect([again.status, again.body.remembered]).toEqual([409, true]);
      expect((await post(s.url, "/flagger/rollback", flaggerPayload("podinfo", {}, "rev-a"))).status).toBe(
        200,
      );

      // A new checksum is a new revision: fresh start, nothing remembered.
      const next = await post(s.url, "/flagger", flaggerPayload("podinfo", {}, "rev-b"));
      expect([next.status, next.body.decision, next.body.remembered]).toEqual([200, "hold", undefined]);
      expect(next.body.canary.startedAt).toBe(new Date(now).toISOString());
      now += 20 * 60_000;
      const healthy = await post(s.url, "/flagger", flaggerPayload("podinfo", {}, "rev-b"));
      expect([healthy.status, healthy.body.rollback]).toEqual([200, false]);
    } finally {
      await s.close();
    }
  });

  it("query failures are `error`: never a failed check on the rollout hook, 503 on confirm hooks, 200 for Argo", async () => {
    const failing: MetricsBackend = {
      describe: "http://prometheus.invalid",
      range: async () => {
        throw new PlatformError("PROM_UNAVAILABLE", "Prometheus answered 503 after 4 attempts", {
          category: "environment",
          hint: "Check the Prometheus endpoint.",
        });
      },
    };
    const s = await startCanaryServer({ port: 0, backend: failing, defaults: {}, log: memoryLogger() });
    try {
      const rollout = await post(s.url, "/flagger", untracked("podinfo"));
      expect(rollout.status).toBe(200);
      expect(rollout.body).toMatchObject({ decision: "error", rule: "error.query", rollback: false });
      expect(rollout.body.error?.code).toBe("PROM_UNAVAILABLE");
      for (const hook of ["confirm-traffic-increase", "confirm-promotion", "rollback"]) {
        expect((await post(s.url, `/flagger/${hook}`, untracked("podinfo"))).status, hook).toBe(503);
      }
      const argo = await get(s.url, "/argo?namespace=test&service=podinfo");
      expect([argo.status, argo.body.decision, argoMeasurement(argo.body)]).toEqual([
        200,
        "error",
        "Inconclusive",
      ]);
    } finally {
      await s.close();
    }
  });

  it("answers `error` before the webhook times out when Prometheus hangs", async () => {
    const hanging: MetricsBackend = { describe: "hanging", range: () => new Promise(() => {}) };
    const s = await startCanaryServer({
      port: 0,
      backend: hanging,
      defaults: {},
      log: memoryLogger(),
      timeoutSeconds: 0.05,
    });
    try {
      const r = await post(s.url, "/flagger", untracked("podinfo"));
      expect([r.status, r.body.decision, r.body.error?.code]).toEqual([200, "error", "CANARY_QUERY_TIMEOUT"]);
    } finally {
      await s.close();
    }
  });

  it("shares one evaluation between the hooks of an interval", async () => {
    const live = liveBackend(replayOf("healthy"));
    const s = await startCanaryServer({
      port: 0,
      backend: live.backend,
      defaults: { mesh: "istio", at: START + 20 * 60_000 },
      log: memoryLogger(),
    });
    try {
      await post(s.url, "/flagger", untracked("podinfo"));
      const calls = live.state.calls;
      expect(calls).toBeGreaterThan(0);
      await post(s.url, "/flagger/confirm-promotion", untracked("podinfo"));
      await post(s.url, "/flagger/rollback", untracked("podinfo"));
      expect(live.state.calls).toBe(calls);
    } finally {
      await s.close();
    }
  });

  it("a backend factory gets the request's prometheus-url; a single backend refuses one", async () => {
    const asked: string[] = [];
    const s = await startCanaryServer({
      port: 0,
      backend: (url) => {
        asked.push(url);
        if (url.includes("down"))
          throw new PlatformError("AUTH_FAILED", "no token for the managed Prometheus", {
            category: "environment",
          });
        return openBackend({ url });
      },
      defaults: { mesh: "istio", maxDurationSeconds: 1200 },
      log: memoryLogger(),
    });
    try {
      const r = await post(
        s.url,
        "/flagger",
        flaggerPayload("bad", { "prometheus-url": `file://${replayFile}` }),
      );
      expect([r.status, asked]).toEqual([409, [`file://${replayFile}`]]);
      const none = await post(s.url, "/flagger", flaggerPayload("bad", {}, "another-revision"));
      expect([none.status, none.body.error?.code]).toEqual([400, "SERVE_URL_MISSING"]);
      const missingFile = await post(
        s.url,
        "/flagger",
        flaggerPayload("bad", { "prometheus-url": "file:///nope.om" }, "third-revision"),
      );
      expect([missingFile.status, missingFile.body.error?.code]).toEqual([400, "REPLAY_FILE_MISSING"]);
      // The environment failing to open a backend is an `error` decision, like a failing query.
      const down = await post(
        s.url,
        "/flagger",
        flaggerPayload("bad", { "prometheus-url": "https://down.example" }, "r4"),
      );
      expect([down.status, down.body.decision, down.body.error?.code]).toEqual([200, "error", "AUTH_FAILED"]);
    } finally {
      await s.close();
    }
    const single = await post(
      server.url,
      "/flagger",
      flaggerPayload("bad", { "prometheus-url": "https://elsewhere.example" }),
    );
    expect([single.status, single.body.error?.code]).toEqual([400, "SERVE_URL_NOT_ALLOWED"]);
  });

  it("reports a port in use as an environment error", async () => {
    const port = Number(new URL(server.url).port);
    await expect(
      startCanaryServer({ port, backend: replayOf("healthy"), defaults: {}, log: memoryLogger() }),
    ).rejects.toMatchObject({ code: "SERVE_LISTEN_FAILED", category: "environment" });
  });
});

describe("status mapping", () => {
  const decisions: DecisionKind[] = ["promote", "continue", "hold", "rollback", "error"];
  const hooks: FlaggerHook[] = ["rollout", "confirm-traffic-increase", "confirm-promotion", "rollback"];

  it("matches the documented table", () => {
    const table = Object.fromEntries(
      hooks.map((h) => [h, Object.fromEntries(decisions.map((d) => [d, flaggerStatus(h, d)]))]),
    );
    expect(table).toEqual({
      rollout: { promote: 200, continue: 200, hold: 200, rollback: 409, error: 200 },
      "confirm-traffic-increase": { promote: 200, continue: 200, hold: 403, rollback: 409, error: 503 },
      "confirm-promotion": { promote: 200, continue: 403, hold: 403, rollback: 409, error: 503 },
      rollback: { promote: 403, continue: 403, hold: 403, rollback: 200, error: 503 },
    });
    for (const row of CANARY_SERVE_MARKDOWN.split("\n").filter((l) =>
      /^\| (promote|continue|hold|rollback|error) \|/.test(l),
    )) {
      const [decision, ...cells] = row
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim());
      const codes = cells.map((c) => Number.parseInt(c, 10));
      expect(codes.slice(0, 4), decision).toEqual(
        hooks.map((h) => flaggerStatus(h, decision as DecisionKind)),
      );
      expect(codes[4], decision).toBe(200);
    }
  });

  it("only a rollback decision ever fails a rollout check or signals a rollback", () => {
    for (const d of decisions) {
      const failsCheck = flaggerStatus("rollout", d) > 202;
      const rollsBack = flaggerStatus("rollback", d) <= 202;
      expect([d, failsCheck, rollsBack]).toEqual([d, d === "rollback", d === "rollback"]);
    }
  });

  it("documents the Flagger and Argo Rollouts setup", () => {
    for (const s of [
      "kind: Canary",
      "type: confirm-promotion",
      "kind: AnalysisTemplate",
      'jsonPath: "{$}"',
      "podTemplateHashValue",
    ])
      expect(CANARY_SERVE_MARKDOWN).toContain(s);
  });
});
