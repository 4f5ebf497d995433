import type { UpdateStage } from "@azure/arm-containerservicefleet";
import { type FleetConfig, type Logger, PlatformError } from "@platform/core";
import { type AksClients, armError, armErrorCode } from "./arm.ts";
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
  /** update-strategy: the name of one of the fleet's FleetUpdateStrategy resources, or its resource ID. */
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
  /** The FleetUpdateStrategy the run uses (its resource ID); `stages` are its stages as the plan read them. */
  updateStrategyId?: string;
  members: UpgradePlan[];
  risk: FleetRiskReport;
  blocked: boolean;
}

// Fleet's pattern for an update strategy's name (FleetUpdateStrategies_Get's updateStrategyName, 1–50 characters).
const STRATEGY_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const STRATEGY_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/fleets\/([^/]+)\/updateStrategies\/([^/]+)$/i;

const fleetResourceId = (ref: FleetRef) =>
  `/subscriptions/${ref.subscription}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.ContainerService/fleets/${ref.name}`;

/**
 * The resource ID of the update strategy `value` names: a strategy name of this fleet, or a resource ID, which
 * must be one of this fleet's strategies (an update run can only use its own fleet's).
 */
export function fleetStrategyId(ref: FleetRef, value: string): string {
  const v = value.trim();
  const m = STRATEGY_ID.exec(v);
  const name = m ? m[4]! : v;
  if ((!m && v.includes("/")) || name.length > 50 || !STRATEGY_NAME.test(name)) {
    throw new PlatformError(
      "AKS_FLEET_STRATEGY_ID",
      `update-strategy "${v}" is neither an update strategy name nor a FleetUpdateStrategy resource ID`,
      {
        input: "update-strategy",
        hint: `Give the strategy's name (lowercase letters, digits and '-', at most 50) or its ID, ${fleetResourceId(ref)}/updateStrategies/<name>.`,
      },
    );
  }
  if (!m) return `${fleetResourceId(ref)}/updateStrategies/${name}`;
  const [sub, rg, fleet] = [m[1]!, m[2]!, m[3]!];
  // ARM compares resource IDs case-insensitively.
  if (
    sub.toLowerCase() !== ref.subscription.toLowerCase() ||
    rg.toLowerCase() !== ref.resourceGroup.toLowerCase() ||
    fleet.toLowerCase() !== ref.name.toLowerCase()
  ) {
    throw new PlatformError(
      "AKS_FLEET_STRATEGY_OTHER_FLEET",
      `update-strategy ${v} is a strategy of fleet ${rg}/${fleet} (subscription ${sub}), not of ${ref.resourceGroup}/${ref.name}`,
      {
        input: "update-strategy",
        hint: `An update run can only use its own fleet's strategies: give one of ${ref.name}'s (its name is enough).`,
      },
    );
  }
  return v;
}

/** The stages of the fleet's update strategy `id`, as Fleet holds them now; fails when it is missing or has none. */
async function strategyStages(c: AksClients, ref: FleetRef, id: string): Promise<UpdateStage[]> {
  const name = id.split("/").at(-1)!;
  let stages: UpdateStage[] | undefined;
  try {
    stages = (await c.fleet.fleetUpdateStrategies.get(ref.resourceGroup, ref.name, name)).properties?.strategy
      ?.stages;
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || armErrorCode(err).code === "ResourceNotFound") {
      throw new PlatformError(
        "AKS_FLEET_STRATEGY_NOT_FOUND",
        `Fleet ${ref.resourceGroup}/${ref.name} has no update strategy "${name}" (update-strategy ${id})`,
        {
          input: "update-strategy",
          hint: `List the fleet's strategies with \`az fleet updatestrategy list --resource-group ${ref.resourceGroup} --fleet-name ${ref.name}\` and give one of them, or give fleet-stages instead.`,
          cause: err,
        },
      );
    }
    throw armError(err, `reading update strategy ${name} of fleet ${ref.name}`);
  }
  // Fleet requires at least one stage; without any, the report could not place a member in one.
  if (!stages?.length) {
    throw new PlatformError(
      "AKS_FLEET_STRATEGY_EMPTY",
      `Update strategy "${name}" of fleet ${ref.name} has no stages`,
      {
        input: "update-strategy",
        hint: "Give the strategy its stages (az fleet updatestrategy create --stages), or give fleet-stages instead.",
      },
    );
  }
  return stages;
}

function stagesAndStrategy(o: { stages?: UpdateStage[]; updateStrategyId?: string }): void {
  if (o.stages && o.updateStrategyId) {
    throw new PlatformError(
      "AKS_FLEET_STAGES_AND_STRATEGY",
      "Give fleet-stages or update-strategy, not both",
      {
        input: "update-strategy",
        hint: "Fleet refuses an update run with both: fleet-stages define the stages in place, update-strategy uses an existing strategy's.",
      },
    );
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
  stagesAndStrategy(i);
  const strategyId = i.updateStrategyId ? fleetStrategyId(i.fleet, i.updateStrategyId) : undefined;
  const c = clientsFor(i.fleet.subscription);
  const members = await listFleetMembers(c, i.fleet.resourceGroup, i.fleet.name);
  // The strategy's stages place each member in a stage for the report; a strategy that is missing fails the
  // plan before any member is planned or rendered.
  const stages = strategyId ? await strategyStages(c, i.fleet, strategyId) : i.stages;
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
    ...(strategyId ? { updateStrategyId: strategyId } : {}),
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
 * blocked one), was checked for other stages or another update strategy, whose strategy has changed since,
 * or that misses a member the fleet has now; else the stages or the strategy to run.
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
  stagesAndStrategy(o);
  const planned = plan.updateStrategyId;
  const given = o.updateStrategyId ? fleetStrategyId(ref, o.updateStrategyId) : undefined;
  const strategyName = (id: string) => id.split("/").at(-1)!;
  const otherStrategy = planned
    ? (given !== undefined && given.toLowerCase() !== planned.toLowerCase()) || o.stages !== undefined
    : given !== undefined;
  if (otherStrategy) {
    throw new PlatformError(
      "AKS_PLAN_STRATEGY",
      planned
        ? `The plan was checked for update strategy ${strategyName(planned)}, not ${given ? `update strategy ${strategyName(given)}` : "fleet-stages"}`
        : `The plan was made without an update strategy; apply cannot switch to update strategy ${strategyName(given!)}`,
      {
        input: "update-strategy",
        hint: "Give apply the plan's update-strategy or fleet-stages (or neither: the plan's are used), or plan again with the new ones.",
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
  if (planned) {
    // The run snapshots the strategy when it is created: its stages must still be the ones the report checked.
    const now = await strategyStages(c, ref, planned);
    if (stageKey(now) !== stageKey(plan.stages)) {
      const names = (s: UpdateStage[] | undefined) =>
        (s ?? []).map((x) => `${x.name}=${(x.groups ?? []).map((g) => g.name).join(",")}`).join("; ");
      throw new PlatformError(
        "AKS_PLAN_STRATEGY_CHANGED",
        `Update strategy ${strategyName(planned)} changed since the plan: its stages are now "${names(now)}", the plan checked "${names(plan.stages)}"`,
        {
          input: "plan-file",
          hint: "Plan again: the risk report must be made for the stages the update run will use.",
        },
      );
    }
    return { updateStrategyId: planned };
  }
  return { stages: o.stages ?? plan.stages };
}
