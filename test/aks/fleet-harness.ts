// The set-up the fleet-wide tests share: GitHub OIDC → Entra sign-in (fakes), a generated fleet (fleet-fixture.ts)
// with its config repo in a temporary folder behind the spec-checked AKS/Fleet fake, and planFleet over it with
// the real kustomize. After each test the fake's spec mismatches must be none.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAksClients, type FleetPlanInput, planFleet } from "@platform/aks";
import { parseConfig } from "@platform/core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type AksFake, type FakeFleet, startAksFake } from "../fakes/aks.ts";
import { requirePeers } from "../peers/index.ts";
import { FLEET_RG, FLEET_SUB, type GeneratedFleet, writeFleet } from "./fleet-fixture.ts";
import { startSignIn } from "./helpers.ts";

/** The fleet's reference as planFleet and checkFleetPlan take it. */
export const fleetRef = (g: GeneratedFleet) => ({
  subscription: FLEET_SUB,
  resourceGroup: FLEET_RG,
  name: g.fleet.name,
});

/** Registers the suite's hooks; `fleetOf` starts a fake fleet of n members for one test. */
export function fleetHarness() {
  const peers = requirePeers("kustomize", "helm");
  let signIn: Awaited<ReturnType<typeof startSignIn>>;
  let aks: AksFake | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    signIn = await startSignIn();
  });
  afterAll(async () => {
    await signIn.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  afterEach(async () => {
    expect(aks?.arm.mismatches).toEqual([]);
    await aks?.close();
    aks = undefined;
  });

  async function fleetOf(
    n: number,
    o: {
      bad?: NonNullable<Parameters<typeof writeFleet>[2]>["bad"];
      strategies?: FakeFleet["strategies"];
    } = {},
  ) {
    const dir = await mkdtemp(join(tmpdir(), "fleet-itg-"));
    dirs.push(dir);
    const g = await writeFleet(dir, n, { bad: o.bad });
    if (o.strategies) g.fleet.strategies = structuredClone(o.strategies);
    const fake = await startAksFake({ clusters: g.clusters, fleets: [g.fleet] });
    aks = fake;
    const c = createAksClients(signIn.credential(), FLEET_SUB, { armEndpoint: fake.url, ca: fake.arm.ca });
    const config = parseConfig(await readFile(join(dir, "platform.yaml"), "utf8"), "platform.yaml");
    /** planFleet to the latest patch (Full) with the fleet's platform.yaml and real kustomize; `extra` overrides. */
    const plan = (extra: Partial<FleetPlanInput> = {}) =>
      planFleet(() => c, {
        fleet: fleetRef(g),
        targetVersion: "latest-patch",
        upgradeType: "Full",
        fleetConfig: config.fleet,
        configFile: "platform.yaml",
        root: dir,
        tools: { kustomize: peers.paths.kustomize, helm: peers.paths.helm },
        now: new Date("2026-11-25T16:00:00Z"),
        ...extra,
      });
    return { dir, g, c, aks: fake, plan };
  }

  return { peers, fleetOf };
}
