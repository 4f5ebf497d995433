// Fleet mode against the fake: members planned with bounded concurrency, an update run created with a
// staged strategy, started and followed stage by stage until it completes or a member fails.

import type { UpdateRun } from "@azure/arm-containerservicefleet";
import {
  createAksClients,
  fleetMembers,
  parseStages,
  planClusters,
  runFleetUpdate,
  updateRunRows,
} from "@platform/aks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AksFake, startAksFake } from "../fakes/aks.ts";
import { northwind, startSignIn } from "./helpers.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
let signIn: Awaited<ReturnType<typeof startSignIn>>;
let aks: AksFake;

beforeAll(async () => {
  signIn = await startSignIn();
});
afterAll(() => signIn.close());
afterEach(async () => {
  expect(aks.arm.mismatches).toEqual([]);
  await aks.close();
});

const member = (name: string, group: string) => {
  const id = `/subscriptions/${SUB}/resourceGroups/rg-fleet/providers/Microsoft.ContainerService/managedClusters/${name}`;
  return {
    cluster: northwind({ id, name, resourceGroup: "rg-fleet", etag: undefined }),
    ref: { name, clusterId: id, group },
  };
};
const MEMBERS = [
  member("aks-canary", "canary"),
  member("aks-prod-eu", "prod"),
  member("aks-prod-us", "prod"),
];

async function start() {
  aks = await startAksFake({
    clusters: MEMBERS.map((m) => m.cluster),
    fleets: [{ resourceGroup: "rg-fleet", name: "northwind-fleet", members: MEMBERS.map((m) => m.ref) }],
  });
  return createAksClients(signIn.credential(), SUB, { armEndpoint: aks.url, ca: aks.arm.ca });
}

describe("Fleet update runs", () => {
  it("plans every member, then runs a staged update stage by stage to Completed", async () => {
    const c = await start();
    const ids = await fleetMembers(c, "rg-fleet", "northwind-fleet");
    expect(ids).toHaveLength(3);
    const plans = await planClusters(() => c, ids, {
      target: "latest-patch",
      now: new Date(),
      concurrency: 2,
    });
    expect(plans.map((p) => p.target.version)).toEqual(["1.30.10", "1.30.10", "1.30.10"]);
    const seen: string[] = [];
    const run = await runFleetUpdate(c, {
      resourceGroup: "rg-fleet",
      fleet: "northwind-fleet",
      runName: "platform-42",
      upgradeType: "Full",
      kubernetesVersion: "1.30.10",
      stages: parseStages("canary=canary@3600; prod=prod"),
      pollIntervalMs: 5,
      onStatus: (r: UpdateRun) =>
        seen.push((r.properties?.status?.stages ?? []).map((s) => `${s.name}:${s.status?.state}`).join(" ")),
    });
    expect(run.properties?.status?.status?.state).toBe("Completed");
    expect(seen).toEqual([
      "canary:Running prod:NotStarted",
      "canary:Completed prod:Running",
      "canary:Completed prod:Completed",
    ]);
    expect(updateRunRows(run)).toContainEqual({
      stage: "canary",
      group: "(wait)",
      member: "3600s",
      state: "Completed",
      message: "",
    });
    expect(
      updateRunRows(run)
        .filter((r) => r.group !== "(wait)")
        .map((r) => `${r.member}:${r.state}`),
    ).toEqual(["aks-canary:Completed", "aks-prod-eu:Completed", "aks-prod-us:Completed"]);
    expect(aks.cluster("rg-fleet", "aks-prod-us").kubernetesVersion).toBe("1.30.10");
    const put = aks.arm.requests.find((r) => r.operationId === "UpdateRuns_CreateOrUpdate");
    expect(put?.body).toMatchObject({
      properties: {
        strategy: {
          stages: [
            { name: "canary", groups: [{ name: "canary" }], afterStageWaitInSeconds: 3600 },
            { name: "prod" },
          ],
        },
        managedClusterUpdate: {
          upgrade: { type: "Full", kubernetesVersion: "1.30.10" },
          nodeImageSelection: { type: "Latest" },
        },
      },
    });
  });

  it("stops at the stage whose member failed; later stages never start", async () => {
    const c = await start();
    aks.failMembers.set("aks-canary", {
      code: "UpgradeFailed",
      message: "Drain of node aks-system-0 timed out",
    });
    const run = await runFleetUpdate(c, {
      resourceGroup: "rg-fleet",
      fleet: "northwind-fleet",
      runName: "platform-43",
      upgradeType: "ControlPlaneOnly",
      kubernetesVersion: "1.31.6",
      stages: parseStages("canary=canary; prod=prod"),
      pollIntervalMs: 5,
    });
    expect(run.properties?.status?.status).toMatchObject({
      state: "Failed",
      error: { code: "UpgradeFailed" },
    });
    expect(aks.cluster("rg-fleet", "aks-prod-eu").kubernetesVersion).toBe("1.30.7");
  });

  it("a group that no member belongs to is ARM's 400, and stages are validated before any call", async () => {
    const c = await start();
    await expect(
      runFleetUpdate(c, {
        resourceGroup: "rg-fleet",
        fleet: "northwind-fleet",
        runName: "r1",
        upgradeType: "NodeImageOnly",
        stages: parseStages("all=staging"),
      }),
    ).rejects.toMatchObject({ code: "AKS_ARM_InvalidRequest" });
    expect(() => parseStages("canary: canary")).toThrow(/stage=group1,group2/);
    await expect(
      runFleetUpdate(c, {
        resourceGroup: "rg-fleet",
        fleet: "northwind-fleet",
        runName: "r2",
        upgradeType: "Full",
      }),
    ).rejects.toMatchObject({ code: "AKS_FLEET_VERSION" });
  });
});
