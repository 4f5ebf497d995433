// Fleet mode with an existing FleetUpdateStrategy (update-strategy) against the spec-checked Fleet fake: the plan
// reads the strategy's stages (FleetUpdateStrategies_Get) and places every member in them for the risk report,
// apply re-reads the strategy and creates the update run from it, and every way the strategy can be wrong — missing,
// another fleet's, changed since the plan, swapped at apply — fails closed before any update run exists.
import { checkFleetPlan, type FleetPlan, parseStages, runFleetUpdate, updateRunRows } from "@platform/aks";
import { describe, expect, it } from "vitest";
import type { FakeFleet } from "../fakes/aks.ts";
import { FLEET_RG, FLEET_SUB, type GeneratedFleet } from "./fleet-fixture.ts";
import { fleetHarness, fleetRef as ref } from "./fleet-harness.ts";

const { peers, fleetOf: start } = fleetHarness();
let aks: Awaited<ReturnType<typeof start>>["aks"];

// Not the fleet-stages order: wave1 goes first, canary and wave2 together after it, so a report that used
// anything but the strategy's stages would name other stages.
const WAVES_FIRST: NonNullable<FakeFleet["strategies"]>[number] = {
  name: "waves-first",
  stages: [
    { name: "first", groups: [{ name: "wave1" }], afterStageWaitInSeconds: 600 },
    { name: "rest", groups: [{ name: "canary" }, { name: "wave2" }] },
  ],
};

async function fleetOf(n: number, bad?: NonNullable<Parameters<typeof start>[1]>["bad"]) {
  const f = await start(n, { bad, strategies: [WAVES_FIRST] });
  aks = f.aks;
  return f;
}

/** The six members of fleetOf(6) in the strategy's stages, in run order. */
const BY_STAGE = [
  "first/member-02",
  "first/member-03",
  "rest/member-00",
  "rest/member-01",
  "rest/member-04",
  "rest/member-05",
];
const strategyId = (g: GeneratedFleet, name: string) =>
  `/subscriptions/${FLEET_SUB}/resourceGroups/${FLEET_RG}/providers/Microsoft.ContainerService/fleets/${g.fleet.name}/updateStrategies/${name}`;
const requests = (prefix: string) => aks.arm.requests.filter((r) => r.operationId.startsWith(prefix));
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { code?: string; message?: string; input?: string; hint?: string }) => e,
  );

describe.skipIf(!peers.ok)("Fleet update strategy (update-strategy)", () => {
  it("plan reads the strategy's stages for the report; apply runs the update run from the strategy to Completed", async () => {
    const { g, c, plan } = await fleetOf(6);
    const p = await plan({ updateStrategyId: "waves-first" });
    expect(requests("FleetUpdateStrategies_Get").map((r) => [r.status, r.path])).toEqual([
      [200, expect.stringMatching(/\/fleets\/fleet-northwind\/updateStrategies\/waves-first$/)],
    ]);
    expect(p.blocked).toBe(false);
    expect(p.updateStrategyId).toBe(strategyId(g, "waves-first"));
    expect(p.stages).toEqual(WAVES_FIRST.stages);
    expect(p.risk.stages).toEqual(["first", "rest"]);
    expect(p.risk.members.map((m) => `${m.stage}/${m.member}`)).toEqual(BY_STAGE);

    const checked = await checkFleetPlan(c, p, ref(g));
    expect(checked).toEqual({ updateStrategyId: strategyId(g, "waves-first") });
    // Apply read the strategy again: the run's stages are still the ones the report checked.
    expect(requests("FleetUpdateStrategies_Get")).toHaveLength(2);
    const seen: string[] = [];
    const run = await runFleetUpdate(c, {
      resourceGroup: FLEET_RG,
      fleet: g.fleet.name,
      runName: "platform-7",
      upgradeType: p.upgradeType,
      kubernetesVersion: p.version,
      ...checked,
      pollIntervalMs: 5,
      onStatus: (r) =>
        seen.push((r.properties?.status?.stages ?? []).map((s) => `${s.name}:${s.status?.state}`).join(" ")),
    });
    expect(run.properties?.status?.status?.state).toBe("Completed");
    const put = requests("UpdateRuns_CreateOrUpdate")[0]!;
    // The run names the strategy and carries no inline stages (Fleet refuses both).
    expect(put.body).toMatchObject({ properties: { updateStrategyId: strategyId(g, "waves-first") } });
    expect((put.body as { properties: object }).properties).not.toHaveProperty("strategy");
    // Fleet snapshots the strategy into the run, and runs its stages in order.
    expect(run.properties?.strategy?.stages?.map((s) => s.name)).toEqual(["first", "rest"]);
    expect(seen).toEqual([
      "first:Running rest:NotStarted",
      "first:Completed rest:Running",
      "first:Completed rest:Completed",
    ]);
    expect(
      updateRunRows(run)
        .filter((r) => r.group !== "(wait)")
        .map((r) => `${r.stage}/${r.member}`),
    ).toEqual(BY_STAGE);
    expect(aks.cluster(FLEET_RG, "aks-fleet-05").kubernetesVersion).toBe(p.version);
  });

  it("a bad member is reported in the stage the strategy puts it in", async () => {
    const { g, plan } = await fleetOf(6, { index: 5, kind: "pdb" });
    const p = await plan({ updateStrategyId: strategyId(g, "waves-first") });
    expect(p.blocked).toBe(true);
    expect(p.risk.blockers).toEqual([
      expect.objectContaining({ stage: "rest", member: "member-05", check: "pdb-blocks-drain" }),
    ]);
  });

  it("a strategy the fleet does not have fails the plan naming it, before any member is planned", async () => {
    const { plan } = await fleetOf(4);
    const e = await failure(plan({ updateStrategyId: "no-such-strategy" }));
    expect(e).toMatchObject({ code: "AKS_FLEET_STRATEGY_NOT_FOUND", input: "update-strategy" });
    expect(e?.message).toContain(
      `Fleet ${FLEET_RG}/fleet-northwind has no update strategy "no-such-strategy"`,
    );
    expect(e?.hint).toContain(
      "az fleet updatestrategy list --resource-group rg-fleet --fleet-name fleet-northwind",
    );
    // Fleet's 404 (checked against the spec's ErrorResponse), and nothing planned after it.
    expect(requests("FleetUpdateStrategies_Get").map((r) => r.status)).toEqual([404]);
    expect(requests("ManagedClusters_")).toEqual([]);
    expect(requests("UpdateRuns_")).toEqual([]);
  });

  it("another fleet's strategy, or fleet-stages with it, are refused before any ARM call", async () => {
    const { g, plan } = await fleetOf(4);
    const other = strategyId(g, "waves-first").replace("/fleets/fleet-northwind/", "/fleets/fleet-other/");
    expect(await failure(plan({ updateStrategyId: other }))).toMatchObject({
      code: "AKS_FLEET_STRATEGY_OTHER_FLEET",
      message: expect.stringContaining("fleet rg-fleet/fleet-other"),
    });
    expect(
      await failure(plan({ updateStrategyId: "waves-first", stages: parseStages(g.stages) })),
    ).toMatchObject({ code: "AKS_FLEET_STAGES_AND_STRATEGY", input: "update-strategy" });
    expect(aks.arm.requests).toEqual([]);
  });

  it("apply refuses another strategy, fleet-stages, a strategy changed or deleted since the plan", async () => {
    const { g, c, plan } = await fleetOf(4);
    const p = await plan({ updateStrategyId: "waves-first" });
    expect(p.blocked).toBe(false);
    g.fleet.strategies!.push({
      name: "all-at-once",
      stages: [{ name: "all", groups: [{ name: "canary" }] }],
    });
    const refusal = (o: Parameters<typeof checkFleetPlan>[3] = {}, plan: FleetPlan = p) =>
      failure(checkFleetPlan(c, plan, ref(g), o));
    expect(await refusal({ updateStrategyId: "all-at-once" })).toMatchObject({
      code: "AKS_PLAN_STRATEGY",
      message: "The plan was checked for update strategy waves-first, not update strategy all-at-once",
    });
    expect(await refusal({ stages: parseStages(g.stages) })).toMatchObject({ code: "AKS_PLAN_STRATEGY" });
    // The same strategy by name or ID is the plan's.
    expect(await checkFleetPlan(c, p, ref(g), { updateStrategyId: strategyId(g, "waves-first") })).toEqual({
      updateStrategyId: strategyId(g, "waves-first"),
    });

    // Someone moves wave2 into the first stage after the plan: the report no longer describes the run.
    g.fleet.strategies![0]!.stages = [
      { name: "first", groups: [{ name: "wave1" }, { name: "wave2" }], afterStageWaitInSeconds: 600 },
      { name: "rest", groups: [{ name: "canary" }] },
    ];
    const changed = await refusal();
    expect(changed).toMatchObject({ code: "AKS_PLAN_STRATEGY_CHANGED" });
    expect(changed?.message).toContain('its stages are now "first=wave1,wave2; rest=canary"');
    expect(changed?.message).toContain('the plan checked "first=wave1; rest=canary,wave2"');

    g.fleet.strategies!.splice(0, 1);
    expect(await refusal()).toMatchObject({ code: "AKS_FLEET_STRATEGY_NOT_FOUND" });
    // A plan made with fleet-stages cannot be switched to a strategy at apply either.
    const staged = await plan({ stages: parseStages(g.stages) });
    expect(await refusal({ updateStrategyId: "all-at-once" }, staged)).toMatchObject({
      code: "AKS_PLAN_STRATEGY",
      message: expect.stringContaining("without an update strategy"),
    });
    expect(requests("UpdateRuns_")).toEqual([]);
  });

  it("an update run naming a strategy deleted since the check is Fleet's 404: nothing runs", async () => {
    const { g, c } = await fleetOf(4);
    g.fleet.strategies = [];
    const e = await failure(
      runFleetUpdate(c, {
        resourceGroup: FLEET_RG,
        fleet: g.fleet.name,
        runName: "platform-8",
        upgradeType: "Full",
        kubernetesVersion: "1.30.10",
        updateStrategyId: strategyId(g, "waves-first"),
        pollIntervalMs: 5,
      }),
    );
    expect(e).toMatchObject({ code: "AKS_ARM_ResourceNotFound" });
    expect(aks.runs.size).toBe(0);
    expect(aks.cluster(FLEET_RG, "aks-fleet-00").kubernetesVersion).toBe("1.30.7");
  });
});
