// The aks package against the AKS fake, through the real SDK (@azure/arm-containerservice) and core's
// GitHub-OIDC credential: every request and answer is checked against the azure-rest-api-specs extract.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AksClients,
  applyCluster,
  createAksClients,
  planCluster,
  type UpgradePlan,
} from "@platform/aks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AksFake, startAksFake } from "../fakes/aks.ts";
import { northwind, startSignIn, windowAround } from "./helpers.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "rg-northwind-prod";
let signIn: Awaited<ReturnType<typeof startSignIn>>;
let aks: AksFake;
let dir: string;

beforeAll(async () => {
  signIn = await startSignIn();
  dir = await mkdtemp(join(tmpdir(), "aks-itg-"));
});
afterAll(async () => {
  await signIn.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  expect(aks.arm.mismatches).toEqual([]);
  await aks.close();
});

function clients(): (s: string) => AksClients {
  const credential = signIn.credential();
  return (s) => createAksClients(credential, s, { armEndpoint: aks.url, ca: aks.arm.ca });
}

const now = new Date();
async function start(over: Parameters<typeof northwind>[0] = {}) {
  aks = await startAksFake({
    clusters: [northwind({ maintenance: windowAround(now, true), ...over })],
  });
}
const plan = (target: string, extra: Partial<Parameters<typeof planCluster>[1]> = {}) =>
  planCluster(clients(), {
    subscription: SUB,
    resourceGroup: RG,
    cluster: "aks-northwind-prod",
    targetVersion: target,
    root: dir,
    ...extra,
  });
const apply = (p: UpgradePlan, state: string, extra: Partial<Parameters<typeof applyCluster>[1]> = {}) =>
  applyCluster(clients(), { plan: p, statePath: join(dir, state), pollIntervalMs: 10, ...extra });

describe("plan against the AKS fake", () => {
  it("plans a two-minor jump as two ordered hops, reading only what it needs", async () => {
    await start();
    const p = await plan("latest-minor");
    expect(p.target.path).toEqual(["1.31.6", "1.32.4"]);
    expect(p.steps.filter((s) => s.kind === "control-plane").map((s) => s.to)).toEqual(["1.31.6", "1.32.4"]);
    expect(p.cluster.etag).toBe(aks.cluster(RG, "aks-northwind-prod").etag);
    // get, upgrade profile, pools, versions, maintenance, one pool profile per pool.
    expect(aks.arm.requests.length).toBe(7);
    expect(signIn.entra.issued.map((i) => i.scope)).toEqual([`${aks.url}/.default`]);
  });

  it("an operation in progress is a blocker", async () => {
    await start({ provisioningState: "Upgrading" });
    const p = await plan("latest-patch");
    expect(p.blocked).toBe(true);
    expect(p.findings.find((f) => f.severity === "blocker")?.check).toBe("operation-in-progress");
  });

  it("rides out 429 with Retry-After", async () => {
    await start();
    aks.arm.inject({ operationId: "ManagedClusters_Get", status: 429, retryAfter: 1, times: 1 });
    const p = await plan("latest-patch");
    expect(p.target.version).toBe("1.30.10");
    expect(
      aks.arm.requests.filter((r) => r.operationId === "ManagedClusters_Get").map((r) => r.status),
    ).toEqual([429, 200]);
  });

  it("unknown cluster and a target the region does not offer are input errors", async () => {
    await start();
    await expect(plan("latest-patch", { cluster: "aks-nope" })).rejects.toMatchObject({
      code: "AKS_CLUSTER_NOT_FOUND",
      input: "cluster",
    });
    await expect(plan("1.31.3")).rejects.toThrow(
      /offered: 1\.30\.10, 1\.31\.2, 1\.31\.6, 1\.32\.0, 1\.32\.4/,
    );
  });
});

describe("apply against the AKS fake", () => {
  it("applies get-modify-put with If-Match, control plane then each pool, and the fake ends on the target", async () => {
    await start();
    const p = await plan("latest-patch");
    const r = await apply(p, "s1.json");
    expect(r).toMatchObject({
      status: "succeeded",
      completed: ["control-plane@1.30.10", "pool:system@1.30.10", "pool:apps@1.30.10"],
    });
    const c = aks.cluster(RG, "aks-northwind-prod");
    expect(c.kubernetesVersion).toBe("1.30.10");
    expect([...c.pools.values()].map((x) => x.orchestratorVersion)).toEqual(["1.30.10", "1.30.10"]);
    // Every PUT carried the ETag the resource had when it was read.
    expect(c.ifMatch).toHaveLength(3);
    for (const m of c.ifMatch) expect(m.sent).toBe(m.current);
    const puts = aks.arm.requests.filter((x) => x.method === "PUT");
    expect(puts.map((x) => x.operationId)).toEqual([
      "ManagedClusters_CreateOrUpdate",
      "AgentPools_CreateOrUpdate",
      "AgentPools_CreateOrUpdate",
    ]);
  });

  it("409 OperationNotAllowed when someone else's operation started after the plan: stops with what to do", async () => {
    await start();
    const p = await plan("latest-patch");
    aks.cluster(RG, "aks-northwind-prod").pools.get("apps")!.provisioningState = "Scaling";
    const r = await apply(p, "s7.json");
    expect(r).toMatchObject({
      status: "failed",
      step: "control-plane@1.30.10",
      code: "OperationNotAllowed",
      fix: expect.stringMatching(/wait for it to finish/),
    });
    expect(aks.arm.requests.find((x) => x.method === "PUT")?.status).toBe(409);
  });

  it("node images only, when the version is current: POST upgradeNodeImageVersion per pool (Location polling)", async () => {
    const base = northwind();
    await start({
      kubernetesVersion: "1.30.10",
      pools: base.pools.map((x) => ({ ...x, orchestratorVersion: "1.30.10" })),
    });
    const p = await plan("latest-patch");
    expect(p.steps.map((s) => s.id)).toEqual(["node-image:system", "node-image:apps"]);
    expect((await apply(p, "s8.json")).status).toBe("succeeded");
    const pools = [...aks.cluster(RG, "aks-northwind-prod").pools.values()];
    expect(pools.map((x) => x.nodeImageVersion)).toEqual(pools.map((x) => x.latestNodeImageVersion));
    expect(aks.arm.count("AgentPools_UpgradeNodeImageVersion")).toBe(2);
  });

  it("refuses a stale plan (the cluster changed since)", async () => {
    await start();
    const p = await plan("latest-patch");
    aks.cluster(RG, "aks-northwind-prod").pools.get("apps")!.etag = '"changed-by-someone"';
    await expect(apply(p, "s2.json")).rejects.toMatchObject({ code: "AKS_PLAN_STALE" });
    expect(aks.arm.requests.some((x) => x.method === "PUT")).toBe(false);
  });

  it("stops on a failed pool operation with ARM's error, and a re-run continues from that pool", async () => {
    await start();
    const p = await plan("latest-patch");
    aks.failNextOperation("pool", {
      code: "PodDrainFailure",
      message:
        "Drain of node aks-apps-1 did not complete: pods orders/orders-api-7c9 blocked by PodDisruptionBudget orders-api",
    });
    const r1 = await apply(p, "s3.json");
    expect(r1).toMatchObject({
      status: "failed",
      step: "pool:system@1.30.10",
      code: "PodDrainFailure",
      fix: expect.stringMatching(/PodDisruptionBudget/),
    });
    const r2 = await apply(p, "s3.json");
    expect(r2).toMatchObject({ status: "succeeded", resumed: true });
    // The control plane was not upgraded twice.
    expect(aks.arm.count("ManagedClusters_CreateOrUpdate")).toBe(1);
  });

  it("UpgradeBlockedOnDeprecatedAPIUsage: names the APIs and the override; the override is used only when asked", async () => {
    await start();
    const p = await plan("1.31.6");
    aks.cluster(RG, "aks-northwind-prod").deprecatedApiUsage = [
      { api: "flowcontrol.apiserver.k8s.io/v1beta2/flowschemas", removedIn: "1.29" },
      { api: "storage.k8s.io/v1beta1/csistoragecapacities", removedIn: "1.31" },
    ];
    const r = await apply(p, "s4.json");
    expect(r).toMatchObject({
      status: "failed",
      code: "UpgradeBlockedOnDeprecatedAPIUsage",
      fix: expect.stringMatching(
        /storage\.k8s\.io\/v1beta1\/csistoragecapacities.*override-deprecated-apis: true/s,
      ),
    });
    expect(aks.cluster(RG, "aks-northwind-prod").override).toBeUndefined();
    const p2 = await plan("1.31.6");
    const r2 = await apply(p2, "s4b.json", { overrideDeprecatedApis: true });
    expect(r2.status).toBe("succeeded");
    expect(aks.cluster(RG, "aks-northwind-prod").override?.forceUpgrade).toBe(true);
  });

  it("outside the maintenance window it waits, unless forced", async () => {
    await start({ maintenance: windowAround(now, false) });
    const p = await plan("latest-patch");
    const r = await apply(p, "s5.json");
    expect(r).toMatchObject({ status: "waiting-for-window", step: "control-plane@1.30.10" });
    expect(aks.arm.requests.some((x) => x.method === "PUT")).toBe(false);
    expect((await apply(p, "s5.json", { force: true })).status).toBe("succeeded");
  });

  it("refuses a plan made for another cluster", async () => {
    await start();
    const p = await plan("latest-patch");
    await expect(
      apply(p, "s6.json", { cluster: "aks-other", resourceGroup: RG, subscription: SUB }),
    ).rejects.toMatchObject({ code: "AKS_PLAN_OTHER_CLUSTER" });
  });
});
