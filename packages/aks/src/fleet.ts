import type { UpdateRun, UpdateStage } from "@azure/arm-containerservicefleet";
import { type Logger, mapLimit, PlatformError } from "@platform/core";
import { type AksClients, armError, clusterRef, readCluster } from "./arm.ts";
import { type PlanOptions, planUpgrade } from "./plan.ts";
import type { UpgradePlan } from "./types.ts";

export type FleetUpgradeType = "Full" | "NodeImageOnly" | "ControlPlaneOnly";

/**
 * Stages of an update run, written `stage=group1,group2@wait; stage2=group3`: stages run in order, the
 * groups of a stage in parallel, and `@wait` is afterStageWaitInSeconds.
 */
export function parseStages(text: string): UpdateStage[] {
  const stages: UpdateStage[] = [];
  for (const raw of text
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9][-A-Za-z0-9]{0,49})\s*=\s*([^@]+?)\s*(?:@\s*(\d+)\s*s?)?$/.exec(raw);
    if (!m) {
      throw new PlatformError(
        "AKS_FLEET_STAGES",
        `fleet-stages entry "${raw}" is not stage=group1,group2[@seconds]`,
        {
          input: "fleet-stages",
          hint: "Example: canary=canary@3600; prod=prod-eu,prod-us",
        },
      );
    }
    const groups = m[2]!
      .split(",")
      .map((g) => g.trim())
      .filter(Boolean);
    stages.push({
      name: m[1]!,
      groups: groups.map((name) => ({ name })),
      ...(m[3] ? { afterStageWaitInSeconds: Number(m[3]) } : {}),
    });
  }
  return stages;
}

/** A Fleet member: its name, its AKS cluster and the update group it belongs to. */
export interface FleetMember {
  name: string;
  clusterId: string;
  group?: string;
}

/** The members of a fleet with their update groups, as Fleet lists them. */
export async function listFleetMembers(
  c: AksClients,
  resourceGroup: string,
  fleet: string,
): Promise<FleetMember[]> {
  const out: FleetMember[] = [];
  try {
    for await (const m of c.fleet.fleetMembers.listByFleet(resourceGroup, fleet)) {
      const clusterId = m.properties?.clusterResourceId;
      if (clusterId)
        out.push({ name: m.name ?? clusterId.split("/").at(-1)!, clusterId, group: m.properties?.group });
    }
  } catch (err) {
    throw armError(err, `listing the members of fleet ${resourceGroup}/${fleet}`);
  }
  return out;
}

/** The member clusters of a fleet, as resource IDs. */
export async function fleetMembers(c: AksClients, resourceGroup: string, fleet: string): Promise<string[]> {
  return (await listFleetMembers(c, resourceGroup, fleet)).map((m) => m.clusterId);
}

/** Plans every member cluster with bounded concurrency (ARM throttles per subscription). */
export async function planClusters(
  clientsFor: (subscription: string) => AksClients,
  clusterIds: string[],
  o: PlanOptions & { concurrency?: number },
): Promise<UpgradePlan[]> {
  return mapLimit(clusterIds, o.concurrency ?? 8, async (id) => {
    const ref = clusterRef(id, undefined, undefined);
    return planUpgrade(await readCluster(clientsFor(ref.subscription), ref), o);
  });
}

export interface FleetRunOptions {
  resourceGroup: string;
  fleet: string;
  runName: string;
  upgradeType: FleetUpgradeType;
  kubernetesVersion?: string;
  stages?: UpdateStage[];
  /** An existing FleetUpdateStrategy's resource ID instead of inline stages. */
  updateStrategyId?: string;
  nodeImageSelection?: "Latest" | "Consistent";
  pollIntervalMs?: number;
  log?: Logger;
  /** Called after each poll with the stages' states, for a live summary. */
  onStatus?: (run: UpdateRun) => void;
  /** Stop following after this long (the run goes on in Azure). */
  timeoutMs?: number;
}

const TERMINAL = new Set(["Completed", "Failed", "Stopped", "Skipped"]);

/** Creates an update run, starts it and follows it stage by stage until it ends. */
export async function runFleetUpdate(c: AksClients, o: FleetRunOptions): Promise<UpdateRun> {
  if (o.upgradeType !== "NodeImageOnly" && !o.kubernetesVersion) {
    throw new PlatformError(
      "AKS_FLEET_VERSION",
      `A ${o.upgradeType} fleet update needs an exact target-version`,
      {
        input: "target-version",
        hint: "Give x.y.z (the version every member goes to), or use upgrade-type NodeImageOnly.",
      },
    );
  }
  const body: UpdateRun = {
    properties: {
      ...(o.updateStrategyId
        ? { updateStrategyId: o.updateStrategyId }
        : { strategy: { stages: o.stages ?? [] } }),
      managedClusterUpdate: {
        upgrade: {
          type: o.upgradeType,
          ...(o.upgradeType === "NodeImageOnly" ? {} : { kubernetesVersion: o.kubernetesVersion }),
        },
        nodeImageSelection: { type: o.nodeImageSelection ?? "Latest" },
      },
    },
  };
  const opts = { updateIntervalInMs: o.pollIntervalMs };
  try {
    await c.fleet.updateRuns.createOrUpdate(o.resourceGroup, o.fleet, o.runName, body, opts);
    o.log?.info(`update run ${o.runName} created; starting it`);
    await c.fleet.updateRuns.start(o.resourceGroup, o.fleet, o.runName, opts);
  } catch (err) {
    throw armError(err, `starting update run ${o.runName} on fleet ${o.fleet}`);
  }
  const deadline = Date.now() + (o.timeoutMs ?? 6 * 3_600_000);
  for (;;) {
    let run: UpdateRun;
    try {
      run = await c.fleet.updateRuns.get(o.resourceGroup, o.fleet, o.runName);
    } catch (err) {
      throw armError(err, `reading update run ${o.runName}`);
    }
    o.onStatus?.(run);
    const state = run.properties?.status?.status?.state;
    if ((state && TERMINAL.has(state)) || Date.now() > deadline) return run;
    await new Promise((r) => setTimeout(r, o.pollIntervalMs ?? 30_000));
  }
}

/** One line per stage/group/member of an update run, for logs and the summary. */
export function updateRunRows(
  run: UpdateRun,
): Array<{ stage: string; group: string; member: string; state: string; message: string }> {
  const rows: Array<{ stage: string; group: string; member: string; state: string; message: string }> = [];
  for (const stage of run.properties?.status?.stages ?? []) {
    for (const group of stage.groups ?? []) {
      for (const m of group.members ?? []) {
        rows.push({
          stage: stage.name ?? "",
          group: group.name ?? "",
          member: m.name ?? "",
          state: m.status?.state ?? "NotStarted",
          message: m.status?.error?.message ?? m.message ?? "",
        });
      }
    }
    if (stage.afterStageWaitStatus) {
      rows.push({
        stage: stage.name ?? "",
        group: "(wait)",
        member: `${stage.afterStageWaitStatus.waitDurationInSeconds ?? 0}s`,
        state: stage.afterStageWaitStatus.status?.state ?? "NotStarted",
        message: "",
      });
    }
  }
  return rows;
}
