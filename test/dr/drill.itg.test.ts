// `platform dr drill --apply` against the DR ARM fake (Front Door origins, Flux configurations, ACR
// replication; every request and answer checked against the azure-rest-api-specs extracts), through
// @azure/core-rest-pipeline and core's GitHub-OIDC credential (the Entra fake), with a real state file.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TokenCredential } from "@azure/core-auth";
import { type DrConfig, DrConfigSchema, loadConfig, memoryLogger } from "@platform/core";
import {
  createArmClient,
  type DrillState,
  fileStateStore,
  planDrill,
  resultMarkdown,
  resultTable,
  runDrill,
  type StateStore,
} from "@platform/dr";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSignIn } from "../aks/helpers.ts";
import { type DrFake, type DrFakeOptions, startDrFake } from "../fakes/arm/dr.ts";
import { REPO_ROOT } from "../peers/index.ts";

let signIn: Awaited<ReturnType<typeof startSignIn>>;
let dir: string;
let fake: DrFake;
let northwind: DrConfig;
const tokens: string[] = [];
let credential: TokenCredential;

beforeAll(async () => {
  signIn = await startSignIn();
  const real = signIn.credential();
  // Remembers every token handed out, to prove none of them reaches a log or the state file.
  credential = {
    getToken: async (scopes, options) => {
      const t = await real.getToken(scopes, options);
      if (t) tokens.push(t.token);
      return t;
    },
  };
  dir = await mkdtemp(join(tmpdir(), "dr-itg-"));
  northwind = (
    await loadConfig(join(REPO_ROOT, "examples", "northwind", "platform.yaml"), { explicit: true })
  ).config.dr!;
});
afterAll(async () => {
  await signIn.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  expect(fake.arm.mismatches).toEqual([]);
  await fake.close();
});

/** Northwind's resources as the warm standby leaves them: standby suspended, priority 2, replica endpoint off. */
async function start(over: Partial<DrFakeOptions> = {}) {
  fake = await startDrFake({
    origins: { "aks-eastus2": 1, "aks-centralus": 2 },
    flux: {
      "aks-northwind-prod-eastus2/platform": { suspend: false, kustomizations: ["infra", "apps"] },
      "aks-northwind-prod-eastus2/teams": { suspend: false, kustomizations: ["teams"] },
      "aks-northwind-standby-centralus/platform": { suspend: true, kustomizations: ["infra", "apps"] },
      "aks-northwind-standby-centralus/teams": { suspend: true, kustomizations: ["teams"] },
    },
    replications: { centralus: { location: "centralus", regionEndpointEnabled: false } },
    polls: 2,
    readyAfter: 4,
    ...over,
  });
}

/** Northwind's topology with budgets a test can run out of. */
const short = (rto: Partial<DrConfig["rto"]> = {}): DrConfig =>
  DrConfigSchema.parse({ ...northwind, rto: { ...northwind.rto, ...rto }, pollInterval: 1 });

interface Extra {
  state?: StateStore;
  signal?: AbortSignal;
  now?: () => number;
  onRequest?: (method: string, url: string) => void;
}

function drill(dr: DrConfig, statePath: string, extra: Extra = {}) {
  const log = memoryLogger();
  const arm = createArmClient(credential, {
    armEndpoint: fake.arm.url,
    ca: fake.arm.ca,
    log,
    ...(extra.onRequest ? { onRequest: extra.onRequest } : {}),
  });
  const run = runDrill(planDrill(dr), {
    arm,
    state: extra.state ?? fileStateStore(statePath),
    log,
    pollMs: 20,
    ...(extra.signal ? { signal: extra.signal } : {}),
    ...(extra.now ? { now: extra.now } : {}),
  });
  return { run, log };
}

function expectNoToken(text: string) {
  expect(tokens.length).toBeGreaterThan(0);
  for (const t of tokens) expect(text).not.toContain(t);
}

describe("dr drill --apply on the ARM fake", () => {
  it("fails Northwind over to Central US, timing every step against its budget", async () => {
    await start({ latencyMs: [5, 25] });
    // A standby origin left disabled would take no traffic at priority 1: the promotion enables it.
    fake.origins.get("aks-centralus")!.enabledState = "Disabled";
    const state = join(dir, "northwind.json");
    const { run, log } = drill(northwind, state);
    const r = await run;
    console.log(resultTable(r));
    expect(r.status).toBe("succeeded");
    expect(r.steps.map((s) => [s.id, s.verdict, s.attempts.map((a) => a.outcome)])).toEqual([
      ["front-door", "ok", ["succeeded"]],
      ["flux-resume", "ok", ["succeeded"]],
      ["kustomizations-ready", "ok", ["succeeded"]],
      ["acr-replica", "ok", ["succeeded"]],
    ]);
    for (const s of r.steps) {
      expect(s.seconds).toBeGreaterThan(0);
      expect(s.seconds).toBeLessThan(s.budgetSeconds);
    }
    expect(r.budgetSeconds).toBe(31 * 60);
    // ARM now shows the failover.
    expect(fake.origins.get("aks-centralus")).toMatchObject({ priority: 1, enabledState: "Enabled" });
    expect(fake.origins.get("aks-eastus2")!.priority).toBe(2);
    expect([...fake.flux.values()].map((f) => [f.cluster, f.name, f.suspend])).toEqual([
      ["aks-northwind-prod-eastus2", "platform", false],
      ["aks-northwind-prod-eastus2", "teams", false],
      ["aks-northwind-standby-centralus", "platform", false],
      ["aks-northwind-standby-centralus", "teams", false],
    ]);
    expect(fake.replications.get("centralus")!.regionEndpointEnabled).toBe(true);
    // Two origin writes, two Flux writes, one replica write; nothing touched the primary cluster's Flux.
    expect(
      ["AFDOrigins_Update", "FluxConfigurations_Update", "Replications_Update"].map((id) =>
        fake.arm.count(id),
      ),
    ).toEqual([2, 2, 1]);
    expect(fake.arm.requests.filter((q) => q.path.includes("aks-northwind-prod-eastus2"))).toEqual([]);
    const md = resultMarkdown(r, planDrill(northwind));
    expect(md).toContain("| 3 | Flux: every Kustomization of platform, teams Ready | 20m |");
    expect(md).toMatch(
      /```mermaid\ngantt\n[\s\S]* {2}kustomizations-ready [\d.]+s of 20m :done, kustomizations-ready, \d+, \d+\n/,
    );
    expectNoToken(
      `${log.lines.map((l) => l.line).join("\n")}\n${await readFile(state, "utf8")}\n${JSON.stringify(r)}`,
    );

    // A second run finds every step already in place in ARM and writes nothing.
    const writes = fake.arm.requests.filter((q) => q.method === "PATCH").length;
    const again = await drill(northwind, join(dir, "fresh.json")).run;
    expect(again.status).toBe("succeeded");
    expect(again.steps.map((s) => s.attempts.map((a) => a.outcome))).toEqual([
      ["already-done"],
      ["already-done"],
      ["already-done"],
      ["already-done"],
    ]);
    expect(fake.arm.requests.filter((q) => q.method === "PATCH").length).toBe(writes);
  });

  it("waits out 429s with Retry-After and still succeeds", async () => {
    await start();
    fake.arm.inject({ operationId: "AFDOrigins_Get", status: 429, retryAfter: 1, times: 2 });
    fake.arm.inject({ operationId: "FluxConfigurations_Update", status: 429, retryAfter: 1, times: 1 });
    const r = await drill(northwind, join(dir, "throttled.json")).run;
    expect(r.status).toBe("succeeded");
    const throttled = fake.arm.requests.filter((q) => q.status === 429);
    expect(throttled.map((q) => q.operationId)).toEqual([
      "AFDOrigins_Get",
      "AFDOrigins_Get",
      "FluxConfigurations_Update",
    ]);
    // The client waited the second ARM asked for (the two origins are read in parallel).
    expect(r.steps[0]!.seconds).toBeGreaterThanOrEqual(1);
    expect(fake.arm.count("FluxConfigurations_Update")).toBe(3);
  });

  it("stops at a failed long-running operation with ARM's code, and a re-run resumes at that step", async () => {
    await start({
      failOperation: {
        operationId: "AFDOrigins_Update",
        code: "OriginUpdateFailed",
        message:
          "The origin aks-centralus could not be updated: the Private Link connection is not approved.",
      },
    });
    const state = join(dir, "lro-failure.json");
    // A slow disk for the heartbeats of the running operation: they must not land after the save that
    // closed the failed step (else the re-run would resume the failed operation instead of retrying).
    const file = fileStateStore(state);
    const slow: StateStore = {
      load: () => file.load(),
      save: async (s) => {
        if (s.current?.lro) await new Promise((r) => setTimeout(r, 40));
        await file.save(s);
      },
    };
    const r = await drill(northwind, state, { state: slow }).run;
    expect(r.status).toBe("failed");
    await new Promise((r) => setTimeout(r, 100)); // whatever write was still in flight has landed
    expect((JSON.parse(await readFile(state, "utf8")) as DrillState).current).toBeUndefined();
    // ARM ran the operation and it failed: a finding of the drill (exit 1), not an outage of the tool.
    expect(r.failed).toMatchObject({
      step: "front-door",
      code: "DR_LRO_OriginUpdateFailed",
      category: "verdict",
    });
    expect(r.failed!.reason).toContain("Private Link connection is not approved");
    expect(r.steps.map((s) => s.verdict)).toEqual(["failed", "not-run", "not-run", "not-run"]);
    expect(fake.arm.count("FluxConfigurations_Update")).toBe(0);

    const again = await drill(northwind, state).run;
    expect(again.failed).toBeUndefined();
    expect(again.status).toBe("succeeded");
    expect(again.resumed).toBe(true);
    expect(again.steps[0]!.attempts.map((a) => a.outcome)).toEqual(["failed", "succeeded"]);
    // The measured time of the step covers both attempts.
    expect(again.steps[0]!.seconds).toBeCloseTo(
      again.steps[0]!.attempts.reduce((n, a) => n + a.seconds, 0),
      6,
    );
  });

  it("fails closed when a Kustomization never becomes Ready by the deadline, naming it", async () => {
    await start({ readyAfter: "never" });
    const r = await drill(short({ kustomizations: 2 }), join(dir, "never.json")).run;
    expect(r.status).toBe("failed");
    expect(r.failed).toMatchObject({ step: "kustomizations-ready", code: "DR_STEP_DEADLINE" });
    expect(r.failed!.reason).toContain("platform-apps Ready=False (HealthCheckFailed");
    expect(r.failed!.reason).toContain("Deployment/orders/api");
    expect(r.steps.map((s) => s.verdict)).toEqual(["ok", "ok", "failed", "not-run"]);
    expect(r.steps[2]!.seconds).toBeGreaterThanOrEqual(2);
    expect(r.steps[2]!.seconds).toBeLessThan(3.5);
    expect(fake.arm.count("Replications_Get")).toBe(0);
  });

  it("does not take a Ready status synced before the drill for a fresh one", async () => {
    // The agent last reported in January: a Kustomization that was Ready before the suspension still says so.
    await start({ readyAfter: 0, statusSyncedAt: "2026-01-05T08:00:00Z" });
    const r = await drill(short({ kustomizations: 2 }), join(dir, "stale.json")).run;
    expect(r.failed).toMatchObject({ step: "kustomizations-ready", code: "DR_STEP_DEADLINE" });
    expect(r.failed!.reason).toContain(
      "platform has not synced its status since the drill started (statusUpdatedAt 2026-01-05T08:00:00Z)",
    );
  });

  it("resumes after a crash mid-operation: the in-flight PATCH is polled, not sent again, and done steps are read from ARM", async () => {
    await start({ polls: 3 });
    const path = join(dir, "crash.json");
    const file = fileStateStore(path);
    const crash = new AbortController();
    // The process "dies" right after it saved the first Flux operation's poller (as a killed job would).
    const dying: StateStore = {
      load: () => file.load(),
      save: async (s: DrillState) => {
        await file.save(s);
        if (s.current?.lro?.path.endsWith("/fluxConfigurations/platform")) crash.abort(new Error("killed"));
      },
    };
    await expect(drill(northwind, path, { state: dying, signal: crash.signal }).run).rejects.toMatchObject({
      code: "DR_INTERRUPTED",
    });
    const saved = JSON.parse(await readFile(path, "utf8")) as DrillState;
    expect(saved.completed).toEqual(["front-door"]);
    expect(saved.current?.step).toBe("flux-resume");
    expect(fake.flux.get("aks-northwind-standby-centralus/platform")!.busy).toBe(true);

    const r = await drill(northwind, path).run;
    expect(r.failed).toBeUndefined();
    expect(r.status).toBe("succeeded");
    expect(r.resumed).toBe(true);
    expect(r.steps.map((s) => s.attempts.map((a) => a.outcome))).toEqual([
      ["succeeded", "already-done"],
      ["interrupted", "succeeded"],
      ["succeeded"],
      ["succeeded"],
    ]);
    // One PATCH per resource over both runs: the crashed one was resumed from its saved poller.
    expect(fake.arm.count("AFDOrigins_Update")).toBe(2);
    expect(fake.arm.count("FluxConfigurations_Update")).toBe(2);
    expect(fake.arm.requests.some((q) => q.status === 409)).toBe(false);
  });

  it("fails the drill when a step finishes past its budget, but completes the failover", async () => {
    await start();
    // The clock jumps six minutes when the first origin write goes out: Front Door took longer than its 5m.
    let skew = 0;
    const r = await drill(northwind, join(dir, "slow.json"), {
      now: () => Date.now() + skew,
      onRequest: (method, url) => {
        if (method === "PATCH" && url.includes("/origins/") && skew === 0) skew = 6 * 60_000;
      },
    }).run;
    expect(r.status).toBe("failed");
    expect(r.failed).toMatchObject({ step: "front-door", code: "DR_STEP_OVER_BUDGET" });
    expect(r.steps.map((s) => s.verdict)).toEqual(["over-budget", "ok", "ok", "ok"]);
    expect(r.steps[0]!.seconds).toBeGreaterThan(360);
    expect(resultTable(r)).toMatch(/front-door\s+5m\s+6m\d*s?\s+1\d\d%\s+1\s+OVER BUDGET/);
    expect(fake.replications.get("centralus")!.regionEndpointEnabled).toBe(true);
  });

  it("refuses a state file of another topology", async () => {
    await start();
    const path = join(dir, "other.json");
    await drill(northwind, path).run;
    const reverse = DrConfigSchema.parse({ ...northwind, primary: "centralus", standby: "eastus2" });
    await expect(drill(reverse, path).run).rejects.toMatchObject({ code: "DR_STATE_OTHER_PLAN" });
  });
});
