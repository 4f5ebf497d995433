import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { namedScenario, scenarioOpenMetrics } from "@platform/canary";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../peers/index.ts";

let dir: string;
let server: ChildProcess | undefined;
let url = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "canary-serve-"));
  const start = Date.parse("2026-11-25T10:00:00Z");
  // Two services in one replay: a bad canary and a healthy one.
  await writeFile(
    join(dir, "mesh.om"),
    scenarioOpenMetrics([
      { ...namedScenario("error-spike", start, 30), service: "checkout" },
      { ...namedScenario("healthy", start, 30), service: "catalog" },
    ]),
  );
  server = spawn(
    process.execPath,
    [
      join(REPO_ROOT, "packages/cli/dist/platform.js"),
      "canary",
      "serve",
      "--prometheus-url",
      `file://${join(dir, "mesh.om")}`,
      "--port",
      "0",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server!.stdout!.on("data", (d) => {
      out += d;
      const m = /serving on (http:\/\/[^:]+:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server!.on("exit", (c) => reject(new Error(`canary serve exited ${c}`)));
  });
});
afterAll(async () => {
  server?.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
});

const flagger = (name: string, hook = "") =>
  fetch(`${url}/flagger${hook}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name,
      namespace: "demo",
      phase: "Progressing",
      checksum: "6d5f7c9b",
      metadata: { interval: "1m" },
    }),
  });

describe("platform canary serve (bundled CLI), as Flagger and Argo Rollouts call it", () => {
  it("answers Flagger's rollout hook: a bad canary fails the check, a healthy one passes", async () => {
    const bad = await flagger("checkout");
    expect(bad.status).toBe(409);
    expect(await bad.json()).toMatchObject({ decision: "rollback" });
    const good = await flagger("catalog");
    expect(good.status).toBe(200);
  });

  it("answers Argo Rollouts' web metric with the decision as JSON", async () => {
    const r = await fetch(`${url}/argo?namespace=demo&service=checkout`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ decision: "rollback", rollback: true });
  });

  it("rejects a payload without a target and stays up", async () => {
    const r = await fetch(`${url}/flagger`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(r.status).toBe(400);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
