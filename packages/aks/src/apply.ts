import { createHash } from "node:crypto";
import { restorePoller } from "@azure/arm-containerservice";
import type { OperationState, PollerLike } from "@azure/core-lro";
import { type Logger, PlatformError } from "@platform/core";
import { type AksClients, all, armError, armErrorCode, maintenanceConfig } from "./arm.ts";
import { describeWindow, scheduleFor, windowStatus } from "./maintenance.ts";
import type { ClusterSnapshot, PlanStep, UpgradePlan } from "./types.ts";

/** What a re-run needs to continue where an earlier run stopped. */
export interface ApplyState {
  schema: "platform.aks/upgrade-state@1";
  /** Fingerprint of the plan this state belongs to. */
  plan: string;
  completed: string[];
  /** The step whose long-running operation was started, with the SDK poller's serialized state. */
  current?: { step: string; poller: string; startedAt: string };
  /** ETags after the last step we ran, so our own changes do not look like drift. */
  etags: { cluster?: string; pools: Record<string, string | undefined> };
  updatedAt: string;
}

export interface StateStore {
  load(): Promise<ApplyState | undefined>;
  save(state: ApplyState): Promise<void>;
}

export interface ApplyOptions {
  plan: UpgradePlan;
  /** Apply outside the maintenance window. */
  force?: boolean;
  /** Set upgradeSettings.overrideSettings.forceUpgrade (skips AKS's deprecated-API check) — only when asked. */
  overrideDeprecatedApis?: boolean;
  state: StateStore;
  now?: () => Date;
  log?: Logger;
  /** Poll interval for the SDK pollers when ARM sends no Retry-After (ms). */
  pollIntervalMs?: number;
  onStep?: (step: PlanStep, phase: "started" | "resumed" | "succeeded" | "failed") => void;
}

export type ApplyResult =
  | { status: "succeeded"; completed: string[]; resumed: boolean }
  | {
      status: "failed";
      completed: string[];
      resumed: boolean;
      step: string;
      code: string;
      message: string;
      fix: string;
    }
  | { status: "waiting-for-window"; completed: string[]; resumed: boolean; step: string; window: string };

/** A stable fingerprint of a plan (cluster, state it was made from, steps). */
function planFingerprint(plan: UpgradePlan): string {
  const basis = JSON.stringify({ c: plan.cluster, s: plan.steps.map((s) => s.id), t: plan.createdAt });
  return createHash("sha256").update(basis).digest("hex").slice(0, 16);
}

/** The plan must be for this cluster: a plan file from another cluster is refused. */
export function checkPlanFor(
  plan: UpgradePlan,
  ref: { subscription: string; resourceGroup: string; name: string },
): void {
  if (plan?.schema !== "platform.aks/upgrade-plan@1") {
    throw new PlatformError(
      "AKS_PLAN_INVALID",
      "The plan file is not a cluster-upgrade plan (schema platform.aks/upgrade-plan@1)",
      {
        input: "plan-file",
        hint: "Pass the plan.json artifact written by a `mode: plan` run.",
      },
    );
  }
  const same =
    plan.cluster.subscription.toLowerCase() === ref.subscription.toLowerCase() &&
    plan.cluster.resourceGroup.toLowerCase() === ref.resourceGroup.toLowerCase() &&
    plan.cluster.name.toLowerCase() === ref.name.toLowerCase();
  if (!same) {
    throw new PlatformError(
      "AKS_PLAN_OTHER_CLUSTER",
      `The plan is for ${plan.cluster.resourceGroup}/${plan.cluster.name} (subscription ${plan.cluster.subscription}), not ${ref.resourceGroup}/${ref.name}`,
      {
        input: "plan-file",
        hint: "Use the plan artifact from the plan job of this cluster's run, or plan again for this cluster.",
      },
    );
  }
}

const OVERRIDE_DAYS = 3;

function fixFor(code: string, message: string, step: PlanStep): string {
  switch (code) {
    case "UpgradeBlockedOnDeprecatedAPIUsage": {
      const apis = [...message.matchAll(/([a-z0-9.-]+\/v[0-9a-z]+\/[a-z]+)/gi)].map((m) => m[1]).join(", ");
      return (
        `Migrate the deprecated APIs the cluster still sees${apis ? ` (${apis})` : ""} and wait until they are unused for 12 hours; ` +
        "or, if you accept the risk, re-run the apply with override-deprecated-apis: true, which sets upgradeSettings.overrideSettings.forceUpgrade until " +
        `${OVERRIDE_DAYS} days from now.`
      );
    }
    case "OperationNotAllowed":
    case "EtagMismatch":
    case "PreconditionFailed":
      return "Another operation changed or is changing the resource; wait for it to finish, then plan and apply again.";
    case "QuotaExceeded":
    case "OperationNotAllowedQuota":
      return "The surge nodes need vCPU quota: request more in the region, or lower the pool's maxSurge.";
    case "PodDrainFailure":
    case "UpgradeFailed":
    case "DrainTimeout":
      return `A pod could not be evicted from a node of ${step.pool ?? "the pool"}: fix its PodDisruptionBudget (see the plan's risks), or raise drainTimeoutInMinutes; then re-run — completed steps are kept.`;
    default:
      return "Fix the cause the ARM error names, then re-run the apply job: it continues from the failed step.";
  }
}

function errorCode(err: unknown): { code: string; message: string } {
  const fromBody = (err as { details?: { error?: unknown } }).details?.error;
  const { code, message } = armErrorCode(err);
  // A failed LRO surfaces the operation's error in core-lro's message: "The long-running operation has failed. <code>. <message>".
  const lro = /^The long-running operation has failed\. ([A-Za-z0-9_.]+)\. ([\s\S]*)$/.exec(message);
  return !fromBody && lro ? { code: lro[1]!, message: lro[2]! } : { code, message };
}

async function liveEtags(
  c: AksClients,
  plan: UpgradePlan,
): Promise<{ cluster: ClusterSnapshot["etag"]; pools: Record<string, string | undefined>; version: string }> {
  const { resourceGroup, name } = plan.cluster;
  const [mc, list] = await Promise.all([
    c.aks.managedClusters.get(resourceGroup, name),
    all(c.aks.agentPools.list(resourceGroup, name)),
  ]);
  const pools = Object.fromEntries(list.map((p) => [p.name ?? "", p.eTag]));
  return { cluster: mc.eTag, pools, version: mc.currentKubernetesVersion ?? mc.kubernetesVersion ?? "" };
}

/** Runs a plan's steps in order: get-modify-put with If-Match, one pool at a time, resumable from saved poller state. */
export async function applyPlan(c: AksClients, o: ApplyOptions): Promise<ApplyResult> {
  const { plan } = o;
  const now = o.now ?? (() => new Date());
  const log = o.log;
  if (plan.blocked) {
    throw new PlatformError(
      "AKS_PLAN_BLOCKED",
      `The plan for ${plan.cluster.name} has blockers; it cannot be applied`,
      {
        category: "verdict",
        input: "plan-file",
        hint: "Fix the blockers listed in the plan's risks, then plan again.",
      },
    );
  }
  const fingerprint = planFingerprint(plan);
  let state = await o.state.load();
  if (state && state.plan !== fingerprint) {
    log?.warn("The saved apply state belongs to another plan; starting this plan from its first step");
    state = undefined;
  }
  const resumed = state !== undefined;
  const st: ApplyState = state ?? {
    schema: "platform.aks/upgrade-state@1",
    plan: fingerprint,
    completed: [],
    etags: {
      cluster: plan.cluster.etag,
      pools: Object.fromEntries(plan.cluster.pools.map((p) => [p.name, p.etag])),
    },
    updatedAt: now().toISOString(),
  };
  const save = async () => {
    st.updatedAt = now().toISOString();
    await o.state.save(st);
  };

  let live: Awaited<ReturnType<typeof liveEtags>>;
  try {
    live = await liveEtags(c, plan);
  } catch (err) {
    throw armError(err, `reading ${plan.cluster.name}`);
  }
  const inFlight = st.current ? plan.steps.find((s) => s.id === st.current!.step) : undefined;
  const drift: string[] = [];
  // While our own operation runs, the resource it changes (and the cluster, which reflects it) may move on.
  if (!inFlight && st.etags.cluster && live.cluster !== st.etags.cluster)
    drift.push(`cluster etag ${st.etags.cluster} → ${live.cluster}`);
  for (const [pool, etag] of Object.entries(st.etags.pools)) {
    if (inFlight?.pool === pool || inFlight?.kind === "control-plane") continue;
    if (etag && live.pools[pool] !== etag)
      drift.push(`pool ${pool} etag ${etag} → ${live.pools[pool] ?? "(gone)"}`);
  }
  // Without ETags (older API versions), the version itself tells whether someone upgraded meanwhile.
  if (!resumed && live.version !== plan.cluster.kubernetesVersion)
    drift.push(`Kubernetes ${plan.cluster.kubernetesVersion} → ${live.version}`);
  if (drift.length) {
    throw new PlatformError(
      "AKS_PLAN_STALE",
      `The cluster changed since the plan was made (${plan.createdAt}): ${drift.join("; ")}`,
      {
        category: "verdict",
        input: "plan-file",
        hint: "Run the plan again and review the new plan before applying it.",
      },
    );
  }

  const interval = o.pollIntervalMs;
  const { resourceGroup, name } = plan.cluster;
  for (const step of plan.steps) {
    if (st.completed.includes(step.id)) continue;
    const resuming = st.current?.step === step.id;
    if (!resuming && !o.force) {
      const schedule = scheduleFor(step.kind);
      const cfg = plan.maintenance.configured.includes(schedule)
        ? await readWindow(c, plan, schedule)
        : undefined;
      if (cfg?.window) {
        const ws = windowStatus(cfg.window, now());
        if (!ws.open) {
          await save();
          return {
            status: "waiting-for-window",
            completed: st.completed,
            resumed,
            step: step.id,
            window: `${describeWindow(cfg)}${ws.next ? `; next opens ${ws.next.start.toISOString()}` : ""}`,
          };
        }
      }
    }
    o.onStep?.(step, resuming ? "resumed" : "started");
    try {
      let poller: AnyPoller;
      if (resuming) {
        log?.info(`${step.id}: resuming the running operation from saved state`);
        poller = restorePoller(
          c.aks,
          st.current!.poller,
          sourceFor(c, step) as (...args: unknown[]) => AnyPoller,
          {
            updateIntervalInMs: interval,
          },
        );
      } else {
        log?.info(`${step.id}: ${step.arm.method} ${step.arm.path}`);
        // A poller is thenable: it travels wrapped, or awaiting it would wait for the whole operation.
        ({ poller } = await startStep(c, step, resourceGroup, name, {
          interval,
          override: o.overrideDeprecatedApis === true,
          now,
        }));
        await poller.submitted();
        st.current = { step: step.id, poller: await poller.serialize(), startedAt: now().toISOString() };
        await save();
      }
      await poller.pollUntilDone();
    } catch (err) {
      const { code, message } = errorCode(err);
      st.current = undefined;
      try {
        const after = await liveEtags(c, plan);
        st.etags = { cluster: after.cluster, pools: after.pools };
      } catch {
        // Keep the last known etags; a re-run then reports drift and asks for a new plan.
      }
      await save();
      o.onStep?.(step, "failed");
      return {
        status: "failed",
        completed: st.completed,
        resumed,
        step: step.id,
        code,
        message,
        fix: fixFor(code, message, step),
      };
    }
    const after = await liveEtags(c, plan);
    st.etags = { cluster: after.cluster, pools: after.pools };
    st.completed.push(step.id);
    st.current = undefined;
    await save();
    o.onStep?.(step, "succeeded");
  }
  return { status: "succeeded", completed: st.completed, resumed };
}

async function readWindow(c: AksClients, plan: UpgradePlan, schedule: string) {
  return maintenanceConfig(
    await c.aks.maintenanceConfigurations.get(plan.cluster.resourceGroup, plan.cluster.name, schedule),
  );
}

type AnyPoller = PollerLike<OperationState<unknown>, unknown>;

/** The SDK operation that started a step, which restorePoller needs to pick the response deserializer. */
function sourceFor(c: AksClients, step: PlanStep): unknown {
  if (step.kind === "control-plane") return c.aks.managedClusters.createOrUpdate;
  if (step.kind === "pool") return c.aks.agentPools.createOrUpdate;
  return c.aks.agentPools.upgradeNodeImageVersion;
}

async function startStep(
  c: AksClients,
  step: PlanStep,
  resourceGroup: string,
  name: string,
  o: { interval?: number; override: boolean; now: () => Date },
): Promise<{ poller: AnyPoller }> {
  const opts = { updateIntervalInMs: o.interval };
  if (step.kind === "control-plane") {
    const mc = await c.aks.managedClusters.get(resourceGroup, name);
    mc.kubernetesVersion = step.to;
    if (o.override) {
      mc.upgradeSettings = {
        ...mc.upgradeSettings,
        overrideSettings: {
          forceUpgrade: true,
          until: new Date(o.now().getTime() + OVERRIDE_DAYS * 86_400_000),
        },
      };
    }
    return {
      poller: c.aks.managedClusters.createOrUpdate(resourceGroup, name, mc, {
        ...opts,
        ifMatch: mc.eTag,
      }) as AnyPoller,
    };
  }
  if (step.kind === "pool") {
    const pool = await c.aks.agentPools.get(resourceGroup, name, step.pool!);
    pool.orchestratorVersion = step.to;
    return {
      poller: c.aks.agentPools.createOrUpdate(resourceGroup, name, step.pool!, pool, {
        ...opts,
        ifMatch: pool.eTag,
      }) as AnyPoller,
    };
  }
  return {
    poller: c.aks.agentPools.upgradeNodeImageVersion(resourceGroup, name, step.pool!, opts) as AnyPoller,
  };
}
