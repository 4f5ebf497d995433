// The fleet-wide risk report against the spec-checked AKS/Fleet fake, with each member's overlay rendered by
// the real kustomize: one bad member in the last stage of a 50-member fleet blocks the plan before an update
// run exists, and apply refuses every plan it cannot trust (blocked, without a report, other stages, a member
// added since the plan).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type AksClients, checkFleetPlan, type FleetPlan, fleetRiskText, parseStages } from "@platform/aks";
import { describe, expect, it } from "vitest";
import type { GeneratedFleet } from "./fleet-fixture.ts";
import { fleetHarness, fleetRef as ref } from "./fleet-harness.ts";

const { peers, fleetOf: start } = fleetHarness();
let aks: Awaited<ReturnType<typeof start>>["aks"];

async function fleetOf(n: number, bad?: NonNullable<Parameters<typeof start>[1]>["bad"]) {
  const f = await start(n, { bad });
  aks = f.aks;
  return { ...f, plan: (stages = f.g.stages) => f.plan({ stages: parseStages(stages) }) };
}

const runsCreated = () => aks.arm.requests.filter((r) => r.operationId?.startsWith("UpdateRuns_")).length;

async function refusal(c: AksClients, plan: FleetPlan, g: GeneratedFleet, o = {}) {
  return checkFleetPlan(c, plan, ref(g), o).then(
    () => undefined,
    (e: { code?: string; message?: string }) => e,
  );
}

describe.skipIf(!peers.ok)("fleet risk report", () => {
  it("50 members, one bad in the last stage: the plan is blocked naming stage, member and reason; no update run", async () => {
    const { g, c, plan } = await fleetOf(50, { index: 49, kind: "pdb" });
    const p = await plan();
    expect(p.members).toHaveLength(50);
    expect(p.risk.members).toHaveLength(50);
    expect(p.risk.renders).toBe(50);
    const perStage = Object.groupBy(p.risk.members, (m) => m.stage);
    expect(Object.fromEntries(Object.entries(perStage).map(([s, ms]) => [s, ms!.length]))).toEqual({
      canary: 2,
      wave1: 24,
      wave2: 24,
    });
    expect(p.risk.members.filter((m) => m.objects !== 2)).toEqual([]);
    expect(p.blocked).toBe(true);
    expect(p.risk.blockers).toEqual([
      {
        stage: "wave2",
        member: "member-49",
        check: "pdb-blocks-drain",
        reason: expect.stringMatching(/orders\/orders-api allows no eviction \(maxUnavailable is 0\)/),
      },
    ]);
    expect(fleetRiskText(p.risk)).toContain("blocker wave2/member-49 pdb-blocks-drain");
    const e = await refusal(c, p, g);
    expect(e).toMatchObject({ code: "AKS_PLAN_BLOCKED" });
    expect(e?.message).toContain("wave2/member-49");
    expect(runsCreated()).toBe(0);
  });

  it("a removed API in one member, and a member whose path is gone, are blockers too", async () => {
    const { dir, plan } = await fleetOf(4, { index: 1, kind: "removed-api" });
    await rm(join(dir, "clusters", "member-03"), { recursive: true });
    const p = await plan("canary=canary; wave1=wave1; wave2=wave2");
    expect(p.risk.blockers.map((b) => [b.stage, b.member, b.check])).toEqual([
      ["canary", "member-01", "removed-api"],
      ["wave2", "member-03", "config-repo-unreadable"],
    ]);
    expect(p.risk.blockers[0]!.reason).toMatch(
      /flowcontrol.apiserver.k8s.io\/v1beta2 FlowSchema is not served since Kubernetes 1.29/,
    );
    expect(p.risk.blockers[1]!.reason).toMatch(/clusters\/member-03/);
  });

  it("apply refuses a plan without a report, with other stages, or missing a member added since; else runs the plan's stages", async () => {
    const { g, c, plan } = await fleetOf(4);
    const p = await plan();
    expect(p.blocked).toBe(false);
    expect(await checkFleetPlan(c, p, ref(g))).toEqual({
      stages: parseStages(g.stages),
      updateStrategyId: undefined,
    });
    const { risk: _risk, ...old } = p;
    expect(await refusal(c, old as FleetPlan, g)).toMatchObject({ code: "AKS_PLAN_NO_RISK_REPORT" });
    expect(await refusal(c, p, g, { stages: parseStages("all=canary,wave1,wave2") })).toMatchObject({
      code: "AKS_PLAN_STAGES",
    });
    expect(await refusal(c, p, { ...g, fleet: { ...g.fleet, name: "other-fleet" } })).toMatchObject({
      code: "AKS_PLAN_OTHER_CLUSTER",
    });
    g.fleet.members.push({ ...g.fleet.members[0]!, name: "member-late" });
    expect(await refusal(c, p, g)).toMatchObject({
      code: "AKS_PLAN_STALE",
      message: expect.stringContaining("member-late"),
    });
    expect(runsCreated()).toBe(0);
  });
});
