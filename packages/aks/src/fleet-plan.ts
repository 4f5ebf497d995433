import type { UpdateStage } from "@azure/arm-containerservicefleet";
import { type FleetConfig, type Logger, PlatformError } from "@platform/core";
import { type AksClients, armError } from "./arm.ts";
import { type FleetUpgradeType, listFleetMembers, planClusters } from "./fleet.ts";
import { type FleetRiskReport, fleetRiskReport, renderFleetManifests } from "./fleet-risk.ts";
import type { TargetSpec, UpgradePlan } from "./types.ts";
import { compareVersions } from "./versions.ts";

export interface FleetRef {
  subscription: string;
  resourceGroup: string;
  name: string;
}

/** What both doors pass in to plan a Fleet update run. */
export interface FleetPlanInput {
  fleet: FleetRef;
  targetVersion: TargetSpec;
  nodePools?: string[];
  upgradeType: FleetUpgradeType;
  /** The run's stages (fleet-stages); or an existing strategy's, read from ARM. */
  stages?: UpdateStage[];
  updateStrategyId?: string;
  /** platform.yaml's `fleet` section: each member's config-repo paths. */
  fleetConfig?: FleetConfig;
  configFile?: string;
  /** The config repo the member paths resolve against (platform.yaml's directory). */
  root: string;
  /** root relative to the workspace, so finding files are repository paths (annotations, links). */
  rootName?: string;
  tools?: { kustomize?: string; helm?: string };
  /** Members planned at once (ARM throttles per subscription). */
  concurrency?: number;
  now?: Date;
  log?: Logger;
}

/** The plan of a Fleet update run: every member's plan and the fleet-wide risk report, made before any stage runs. */
export interface FleetPlan {
  schema: "platform.aks/fleet-plan@1";
  createdAt: string;
  fleet: FleetRef;
  version: string;
  upgradeType: FleetUpgradeType;
  stages?: UpdateStage[];
  updateStrategyId?: string;
  members: UpgradePlan[];
  risk: FleetRiskReport;
  blocked: boolean;
}

async function strategyStages(c: AksClients, ref: FleetRef, id: string): Promise<UpdateStage[]> {
  const name = id.split("/").at(-1)!;
  try {
    const s = await c.fleet.fleetUpdateStrategies.get(ref.resourceGroup, ref.name, name);
    return s.properties?.strategy?.stages ?? [];
  } catch (err) {
    throw armError(err, `reading update strategy ${name} of fleet ${ref.name}`);
  }
}

/**
 * Plans every member, then checks every member's manifests for the run's version (fleetRiskReport), so
 * one bad member blocks the plan before the update run exists.
 */
export async function planFleet(
  clientsFor: (subscription: string) => AksClients,
  i: FleetPlanInput,
): Promise<FleetPlan> {
  const c = clientsFor(i.fleet.subscription);
  const members = await listFleetMembers(c, i.fleet.resourceGroup, i.fleet.name);
  const now = i.now ?? new Date();
  // The renders (kustomize, helm: CPU) overlap the member plans (ARM reads: waiting).
  const manifests = renderFleetManifests(members, {
    fleet: i.fleetConfig,
    configFile: i.configFile,
    root: i.root,
    rootName: i.rootName,
    tools: i.tools,
    log: i.log,
  });
  const plans = await planClusters(
    clientsFor,
    members.map((m) => m.clusterId),
    { target: i.targetVersion, pools: i.nodePools, now, concurrency: i.concurrency },
  );
  // One run takes every member to one version: the lowest any member can reach in this run.
  const version = plans.map((m) => m.target.path[0] ?? m.target.version).sort(compareVersions)[0] ?? "";
  const stages =
    i.stages ?? (i.updateStrategyId ? await strategyStages(c, i.fleet, i.updateStrategyId) : undefined);
  const risk = await fleetRiskReport({
    members: members.map((m, k) => ({ ...m, kubernetesVersion: plans[k]!.cluster.kubernetesVersion })),
    version,
    upgradeType: i.upgradeType,
    stages,
    configFile: i.configFile,
    root: i.root,
    manifests,
  });
  i.log?.info(
    `fleet risk report: ${risk.members.length} member(s), ${risk.blockers.length} blocker(s), ${risk.renders} render(s) in ${risk.durationMs} ms`,
  );
  return {
    schema: "platform.aks/fleet-plan@1",
    createdAt: now.toISOString(),
    fleet: i.fleet,
    version,
    upgradeType: i.upgradeType,
    ...(stages ? { stages } : {}),
    ...(i.updateStrategyId ? { updateStrategyId: i.updateStrategyId } : {}),
    members: plans,
    risk,
    blocked: risk.blocked || plans.some((p) => p.blocked),
  };
}

const stageKey = (s: UpdateStage[] | undefined) =>
  JSON.stringify(
    (s ?? []).map((x) => [x.name, (x.groups ?? []).map((g) => g.name), x.afterStageWaitInSeconds]),
  );

/**
 * Refuses to start an update run from a plan that is for another fleet, has no risk report (or a
 * blocked one), was checked for other stages, or misses a member the fleet has now; else the stages to run.
 */
export async function checkFleetPlan(
  c: AksClients,
  plan: FleetPlan,
  ref: FleetRef,
  o: { stages?: UpdateStage[]; updateStrategyId?: string } = {},
): Promise<{ stages?: UpdateStage[]; updateStrategyId?: string }> {
  if (
    plan.schema !== "platform.aks/fleet-plan@1" ||
    plan.fleet?.name !== ref.name ||
    plan.fleet?.resourceGroup !== ref.resourceGroup
  ) {
    throw new PlatformError(
      "AKS_PLAN_OTHER_CLUSTER",
      `The plan is not a plan for fleet ${ref.resourceGroup}/${ref.name}`,
      {
        input: "plan-file",
        hint: "Use the plan artifact from this fleet's plan job.",
      },
    );
  }
  if (plan.risk?.schema !== "platform.aks/fleet-risk@1") {
    throw new PlatformError(
      "AKS_PLAN_NO_RISK_REPORT",
      "The fleet plan carries no risk report; it cannot be applied",
      {
        input: "plan-file",
        hint: "Plan again with this version of cluster-upgrade: the plan checks every member before an update run starts.",
      },
    );
  }
  if (plan.blocked || plan.risk.blocked || plan.members.some((m) => m.blocked)) {
    const first = plan.risk.blockers[0];
    throw new PlatformError(
      "AKS_PLAN_BLOCKED",
      `The fleet plan is blocked${first ? ` (${first.stage}/${first.member}: ${first.reason})` : ""}; no update run is created`,
      {
        category: "verdict",
        input: "plan-file",
        hint: "Fix the blockers in the plan's summary, then plan again.",
      },
    );
  }
  if (o.stages && plan.stages && stageKey(o.stages) !== stageKey(plan.stages)) {
    throw new PlatformError(
      "AKS_PLAN_STAGES",
      "fleet-stages differ from the stages the plan was checked for",
      {
        input: "fleet-stages",
        hint: "Give the same fleet-stages to the plan and the apply job (or leave them out of apply: the plan's are used).",
      },
    );
  }
  const checked = new Set(plan.risk.members.map((m) => m.member.toLowerCase()));
  const now = await listFleetMembers(c, ref.resourceGroup, ref.name);
  const unchecked = now.filter((m) => !checked.has(m.name.toLowerCase()));
  if (unchecked.length) {
    throw new PlatformError(
      "AKS_PLAN_STALE",
      `Fleet ${ref.name} has member(s) the plan did not check: ${unchecked.map((m) => m.name).join(", ")}`,
      { input: "plan-file", hint: "Plan again: every member is checked before an update run starts." },
    );
  }
  return {
    stages: o.stages ?? plan.stages,
    updateStrategyId: o.updateStrategyId ?? plan.updateStrategyId,
  };
}
