import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { namedScenario, type ScenarioName, scenarioOpenMetrics } from "@platform/canary";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBundledAction } from "../harness/run-action.ts";

let ws: string;
const START = Date.parse("2026-11-25T10:00:00Z");

beforeAll(async () => {
  ws = await mkdtemp(join(tmpdir(), "canary-ws-"));
  for (const name of ["healthy", "error-spike", "no-traffic"] as ScenarioName[]) {
    await writeFile(join(ws, `${name}.om`), scenarioOpenMetrics(namedScenario(name, START, 30)));
  }
});
afterAll(() => rm(ws, { recursive: true, force: true }));

const run = (scenario: string, extra: Record<string, string> = {}) =>
  runBundledAction(
    "canary-gate",
    { "prometheus-url": `file://${join(ws, `${scenario}.om`)}`, ...SPEC, ...extra },
    { workspace: ws },
  );
const SPEC = { namespace: "demo", service: "podinfo" };

describe("canary-gate bundled action (replay of OpenMetrics scenarios)", () => {
  it("rolls back a canary whose error rate rises above the primary's, and fails the step", async () => {
    const r = await run("error-spike");
    expect(r.outputs.decision, r.stdout).toBe("rollback");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.outputs.evidence!)).toHaveProperty("errors");
    expect(r.summary).toContain("Canary gate: rollback");
    expect(r.summary).toContain("```mermaid");
  });

  it("does not roll back a healthy canary", async () => {
    const r = await run("healthy");
    expect(["promote", "continue"]).toContain(r.outputs.decision);
    expect(r.code).toBe(0);
  });

  it("holds, never rolls back, when there is no traffic", async () => {
    const r = await run("no-traffic");
    expect(r.outputs.decision).toBe("hold");
    expect(r.code).toBe(0);
  });

  it("watch mode replays every interval to a terminal decision", async () => {
    const r = await run("error-spike", { mode: "watch", interval: "1m", "max-duration": "30m" });
    expect(r.outputs.decision).toBe("rollback");
    expect(JSON.parse(r.outputs.result!).history.length).toBeGreaterThan(1);
  });

  it("names the input for a bad selector", async () => {
    const r = await run("healthy", { "canary-selector": "not a selector" });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("(input: canary-selector)");
  });
});
