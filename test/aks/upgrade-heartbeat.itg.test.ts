// `platform upgrade apply`'s progress: while a step's long-running operation polls, the CLI prints a
// heartbeat with the elapsed time, then how long the step took (the AKS fake, through the real SDK).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAksClients, planCluster } from "@platform/aks";
import { memoryLogger } from "@platform/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runUpgradeApply } from "../../packages/cli/src/upgrade.ts";
import { startAksFake } from "../fakes/aks.ts";
import { northwind, startSignIn, windowAround } from "./helpers.ts";

let signIn: Awaited<ReturnType<typeof startSignIn>>;
let dir: string;
beforeAll(async () => {
  signIn = await startSignIn();
  dir = await mkdtemp(join(tmpdir(), "aks-heartbeat-"));
});
afterAll(async () => {
  await signIn.close();
  await rm(dir, { recursive: true, force: true });
});

it("upgrade apply heartbeats with the elapsed time while an operation polls, and says how long each step took", async () => {
  // Each operation answers InProgress twice, one second apart (ARM's Retry-After).
  const aks = await startAksFake({
    clusters: [northwind({ maintenance: windowAround(new Date(), true) })],
    polls: 2,
  });
  try {
    const credential = signIn.credential();
    const clients = (s: string) => createAksClients(credential, s, { armEndpoint: aks.url, ca: aks.arm.ca });
    const plan = await planCluster(clients, {
      subscription: "00000000-0000-0000-0000-000000000001",
      resourceGroup: "rg-northwind-prod",
      cluster: "aks-northwind-prod",
      targetVersion: "latest-patch",
      root: dir,
    });
    await writeFile(join(dir, "plan.json"), JSON.stringify(plan));
    aks.setPolls(2, 1);
    const log = memoryLogger();
    let out = "";
    const code = await runUpgradeApply(
      {
        planFile: "plan.json",
        state: "state.json",
        force: false,
        overrideDeprecatedApis: false,
        pollInterval: "1",
        heartbeat: "0.4",
        root: dir,
        json: false,
      },
      { out: (s) => (out += s), log, env: {}, cwd: dir, clients },
    );
    expect(code, out).toBe(0);
    const lines = log.lines.map((l) => l.line);
    const beats = lines.filter((l) => l.startsWith("control-plane@1.30.10: still running after "));
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats.at(-1)).toMatch(/still running after [1-9]\d*s$/);
    for (const step of ["control-plane@1.30.10", "pool:system@1.30.10", "pool:apps@1.30.10"])
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^${step}: succeeded after [1-9]\\d*s$`)),
      );
    // After the run no heartbeat is left ticking.
    const after = log.lines.length;
    await new Promise((r) => setTimeout(r, 900));
    expect(log.lines.length).toBe(after);
    expect(out).toContain("upgraded aks-northwind-prod to 1.30.10");
    expect(aks.arm.mismatches).toEqual([]);
  } finally {
    await aks.close();
  }
});
