import { readFile } from "node:fs/promises";
import { type Logger, PlatformError, writeFileAtomic } from "@platform/core";
import { type ApplyResult, type ApplyState, applyPlan, checkPlanFor, type StateStore } from "./apply.ts";
import { type AksClients, clusterRef, readCluster } from "./arm.ts";
import { elapsed, heartbeat } from "./heartbeat.ts";
import { loadConfigRepo } from "./manifests.ts";
import { planUpgrade } from "./plan.ts";
import type { ClusterSnapshot, PlanStep, TargetSpec, UpgradePlan } from "./types.ts";
import type { ManifestObject } from "./workloads.ts";

/** What both doors (action and CLI) pass in to plan one cluster. */
export interface ClusterPlanInput {
  subscription?: string;
  resourceGroup?: string;
  cluster: string;
  targetVersion: TargetSpec;
  nodePools?: string[];
  configRepoPath?: string[];
  /** Workspace root the config repo paths resolve against. */
  root: string;
  tools?: { kustomize?: string; helm?: string };
  now?: Date;
  log?: Logger;
}

async function manifestsFor(i: ClusterPlanInput): Promise<ManifestObject[] | undefined> {
  if (!i.configRepoPath?.length) return undefined;
  const { objects } = await loadConfigRepo(i.configRepoPath, { root: i.root, tools: i.tools, log: i.log });
  i.log?.info(`config repo: ${objects.length} rendered objects checked for removed APIs and drain blockers`);
  return objects;
}

/** Plans one cluster read from a cluster description file (offline: the demo and dry runs). */
export async function planFromSnapshot(
  snapshot: ClusterSnapshot,
  i: Omit<ClusterPlanInput, "cluster">,
): Promise<UpgradePlan> {
  return planUpgrade(snapshot, {
    target: i.targetVersion,
    pools: i.nodePools,
    manifests: await manifestsFor({ ...i, cluster: snapshot.name }),
    now: i.now ?? new Date(),
  });
}

/** Reads the cluster from ARM and plans its upgrade. */
export async function planCluster(
  clients: (subscription: string) => AksClients,
  i: ClusterPlanInput,
): Promise<UpgradePlan> {
  const ref = clusterRef(i.cluster, i.resourceGroup, i.subscription);
  const manifests = await manifestsFor(i);
  const snapshot = await readCluster(clients(ref.subscription), ref);
  return planUpgrade(snapshot, {
    target: i.targetVersion,
    pools: i.nodePools,
    manifests,
    now: i.now ?? new Date(),
  });
}

/** Reads a plan file written by a plan run. */
export async function readPlanFile(path: string): Promise<UpgradePlan> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new PlatformError("AKS_PLAN_MISSING", `Cannot read the plan file ${path}`, {
      input: "plan-file",
      hint: "Pass the file the plan wrote (upgrade plan --plan-file; in a workflow, download the plan job's artifact before the apply step).",
      cause: err,
    });
  }
  try {
    return JSON.parse(text) as UpgradePlan;
  } catch (err) {
    throw new PlatformError("AKS_PLAN_INVALID", `The plan file ${path} is not JSON`, {
      input: "plan-file",
      file: path,
      cause: err,
    });
  }
}

/** Apply state kept in a JSON file, written atomically after every step. */
function fileStateStore(path: string): StateStore {
  return {
    async load() {
      try {
        const s = JSON.parse(await readFile(path, "utf8")) as ApplyState;
        return s.schema === "platform.aks/upgrade-state@1" ? s : undefined;
      } catch {
        return undefined;
      }
    },
    save: (s) => writeFileAtomic(path, `${JSON.stringify(s, null, 2)}\n`, { input: "state" }),
  };
}

export interface ClusterApplyInput {
  subscription?: string;
  resourceGroup?: string;
  cluster?: string;
  plan: UpgradePlan;
  statePath: string;
  force?: boolean;
  overrideDeprecatedApis?: boolean;
  pollIntervalMs?: number;
  log?: Logger;
  now?: () => Date;
  /** Called as each step starts, resumes, succeeds or fails. */
  onStep?: (step: PlanStep, phase: "started" | "resumed" | "succeeded" | "failed") => void;
  /** While a step runs, log "still running after <elapsed>" this often (default: never). */
  heartbeatMs?: number;
}

/** Applies a plan to the cluster it names, refusing a plan made for another cluster. */
export async function applyCluster(
  clients: (subscription: string) => AksClients,
  i: ClusterApplyInput,
): Promise<ApplyResult> {
  const ref = i.cluster
    ? clusterRef(
        i.cluster,
        i.resourceGroup ?? i.plan?.cluster?.resourceGroup,
        i.subscription ?? i.plan?.cluster?.subscription,
      )
    : undefined;
  checkPlanFor(i.plan, ref ?? i.plan.cluster);
  let stop: (() => void) | undefined;
  let began = Date.now();
  return applyPlan(clients(i.plan.cluster.subscription), {
    plan: i.plan,
    force: i.force,
    overrideDeprecatedApis: i.overrideDeprecatedApis,
    state: fileStateStore(i.statePath),
    pollIntervalMs: i.pollIntervalMs,
    log: i.log,
    now: i.now,
    onStep: (s, phase) => {
      stop?.();
      stop = undefined;
      if (phase === "started" || phase === "resumed") {
        began = Date.now();
        i.log?.info(`${s.id}: ${phase}`);
        if (i.log && i.heartbeatMs) stop = heartbeat(i.log, s.id, i.heartbeatMs);
      } else i.log?.info(`${s.id}: ${phase} after ${elapsed(Date.now() - began)}`);
      i.onStep?.(s, phase);
    },
  }).finally(() => stop?.());
}
