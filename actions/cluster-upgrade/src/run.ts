import { isAbsolute, join } from "node:path";
import {
  type AksClients,
  applyCluster,
  compareVersions,
  createAksClients,
  fleetMembers,
  parseStages,
  planCluster,
  planClusters,
  planMarkdown,
  readPlanFile,
  runFleetUpdate,
  type UpgradePlan,
  updateRunRows,
} from "@platform/aks";
import { lazyAzureCredential, PlatformError, writeFileAtomic } from "@platform/core";
import type { ActionContext, ActionOutcome, CamelKeys } from "@platform/github";
import type { z } from "zod";
import type { inputs } from "./inputs.ts";

/** The inputs as action.yml names them, camel-cased (inputs.ts is the one description). */
export type Inputs = CamelKeys<z.output<typeof inputs>>;

/** ARM clients per subscription, signed in through GitHub OIDC (core's credential). */
function clientsFactory(i: Inputs, ctx: ActionContext): (subscription: string) => AksClients {
  const cache = new Map<string, AksClients>();
  // Signed in on the first token request, so input errors surface before any sign-in; core skips
  // instance discovery for authorities Microsoft does not list (Azure Stack, a fake).
  const credential = lazyAzureCredential({
    env: ctx.env,
    log: ctx.log,
    tenantId: i.tenantId,
    clientId: i.clientId,
    authorityHost: i.authorityHost,
  });
  return (subscription) => {
    let c = cache.get(subscription);
    if (!c) {
      c = createAksClients(credential, subscription, { armEndpoint: i.armEndpoint, log: ctx.log });
      cache.set(subscription, c);
    }
    return c;
  };
}

const inWorkspace = (ctx: ActionContext, p: string) => (isAbsolute(p) ? p : join(ctx.workspace, p));

/**
 * The renamed inputs (issue 17's one vocabulary): subscription → subscription-id (azure/login's name) and
 * apply mode's plan → plan-file (the file the plan run wrote, as the CLI's --plan-file). The old names
 * still work, with a warning.
 */
function renamedInputs(i: Inputs, ctx: ActionContext): Inputs {
  if (i.subscription) ctx.log.warn("the subscription input is deprecated: use subscription-id");
  if (i.plan)
    ctx.log.warn("the plan input is deprecated: use plan-file (apply reads the file the plan run wrote)");
  return { ...i, subscription: i.subscriptionId ?? i.subscription, plan: i.plan ?? i.planFile };
}

/** The action's glue: plan or apply, for one cluster or a fleet. */
export async function clusterUpgrade(raw: Inputs, ctx: ActionContext): Promise<ActionOutcome> {
  const i = renamedInputs(raw, ctx);
  if (i.cluster && i.fleet) {
    throw new PlatformError("AKS_CLUSTER_AND_FLEET", "Give cluster or fleet, not both", {
      input: "fleet",
      hint: "One run upgrades one cluster, or every member of one fleet.",
    });
  }
  const clients = clientsFactory(i, ctx);
  if (i.fleet) return i.mode === "plan" ? fleetPlan(i, ctx, clients) : fleetApply(i, ctx, clients);
  return i.mode === "plan" ? clusterPlan(i, ctx, clients) : clusterApply(i, ctx, clients);
}

async function clusterPlan(
  i: Inputs,
  ctx: ActionContext,
  clients: (s: string) => AksClients,
): Promise<ActionOutcome> {
  if (!i.cluster) {
    throw new PlatformError("AKS_CLUSTER_MISSING", "mode: plan needs cluster (or fleet)", {
      input: "cluster",
      hint: "Set cluster to the AKS cluster's name (with subscription-id and resource-group) or its resource ID.",
    });
  }
  const plan = await planCluster(clients, {
    subscription: i.subscription,
    resourceGroup: i.resourceGroup,
    cluster: i.cluster,
    targetVersion: i.targetVersion,
    nodePools: i.nodePools,
    configRepoPath: i.configRepoPath,
    root: ctx.workspace,
    tools: { kustomize: ctx.env.PLATFORM_KUSTOMIZE, helm: ctx.env.PLATFORM_HELM },
    log: ctx.log,
  });
  const file = inWorkspace(ctx, i.planFile);
  await writeFileAtomic(file, `${JSON.stringify(plan, null, 2)}\n`, { input: "plan-file" });
  ctx.summary.raw(planMarkdown(plan, ctx.github), 0);
  for (const f of plan.findings.filter((x) => x.severity !== "info")) {
    ctx.annotate({
      level: f.severity === "blocker" ? "error" : "warning",
      title: f.check,
      message: `${f.message}. Fix: ${f.fix}`,
      file: f.file,
      line: f.line,
    });
  }
  const status = plan.blocked ? "blocked" : plan.steps.length ? "planned" : "up-to-date";
  ctx.log.info(
    `plan: ${plan.cluster.kubernetesVersion} → ${plan.target.version}, ${plan.steps.length} step(s), ${status}`,
  );
  const blockers = plan.findings.filter((f) => f.severity === "blocker");
  return {
    outputs: {
      plan: JSON.stringify(plan),
      "plan-file": file,
      "current-version": plan.cluster.kubernetesVersion,
      "target-version": plan.target.version,
      status,
    },
    result: plan,
    failure: plan.blocked
      ? new PlatformError(
          "AKS_PLAN_BLOCKED",
          `The upgrade of ${plan.cluster.name} is blocked: ${blockers.map((f) => f.message).join("; ")}`,
          {
            category: "verdict",
            hint: blockers.map((f) => f.fix).join(" "),
          },
        )
      : undefined,
  };
}

async function clusterApply(
  i: Inputs,
  ctx: ActionContext,
  clients: (s: string) => AksClients,
): Promise<ActionOutcome> {
  if (!i.plan) {
    throw new PlatformError("AKS_PLAN_MISSING", "mode: apply needs the plan from a plan run", {
      input: "plan-file",
      hint: "Download the plan artifact and pass its path as plan.",
    });
  }
  const plan = await readPlanFile(inWorkspace(ctx, i.plan));
  const r = await applyCluster(clients, {
    subscription: i.subscription,
    resourceGroup: i.resourceGroup,
    cluster: i.cluster,
    plan,
    statePath: inWorkspace(ctx, i.state),
    force: i.force,
    overrideDeprecatedApis: i.overrideDeprecatedApis,
    pollIntervalMs: i.pollInterval * 1000,
    log: ctx.log,
  });
  const s = ctx.summary;
  s.verdict(
    // Outside the window the step fails too (it refused to start): ❌, with the window named below.
    r.status === "succeeded" ? "pass" : "fail",
    `Upgrade of ${plan.cluster.name}: ${r.status}`,
  );
  s.paragraph(
    `${plan.cluster.kubernetesVersion} → ${plan.target.version}${r.resumed ? " (resumed from saved state)" : ""}`,
    0,
  );
  s.table(
    ["step", "outcome"],
    plan.steps.map((st) => [
      st.id,
      r.completed.includes(st.id)
        ? "✅ done"
        : r.status !== "succeeded" && r.step === st.id
          ? r.status === "failed"
            ? `❌ ${r.code}`
            : "⏸ waiting for the window"
          : "—",
    ]),
  );
  let failure: PlatformError | undefined;
  if (r.status === "failed") {
    s.paragraph(`${r.code}: ${r.message}`, 0).paragraph(`What to do: ${r.fix}`, 0);
    failure = new PlatformError(`AKS_UPGRADE_${r.code}`, `${r.step} failed: ${r.code}: ${r.message}`, {
      category: "environment",
      hint: r.fix,
    });
  } else if (r.status === "waiting-for-window") {
    s.paragraph(`Outside the maintenance window: ${r.window}`, 0);
    failure = new PlatformError(
      "AKS_OUTSIDE_WINDOW",
      `Refusing to start ${r.step} outside the maintenance window (${r.window})`,
      {
        category: "verdict",
        hint: "Re-run the apply job inside the window (finished steps are kept), or set force: true to upgrade now.",
      },
    );
  }
  return {
    outputs: {
      plan: JSON.stringify(plan),
      "current-version": plan.cluster.kubernetesVersion,
      "target-version": plan.target.version,
      status: r.status,
    },
    result: r,
    failure,
  };
}

interface FleetPlan {
  schema: "platform.aks/fleet-plan@1";
  fleet: { subscription: string; resourceGroup: string; name: string };
  version: string;
  upgradeType: Inputs["fleetUpgradeType"];
  members: UpgradePlan[];
}

function fleetRef(i: Inputs) {
  if (!i.subscription || !i.resourceGroup) {
    throw new PlatformError("AKS_FLEET_REF", "fleet needs subscription-id and resource-group", {
      input: i.subscription ? "resource-group" : "subscription-id",
      hint: "Give the fleet's subscription-id and resource-group.",
    });
  }
  return { subscription: i.subscription, resourceGroup: i.resourceGroup, name: i.fleet! };
}

async function fleetPlan(
  i: Inputs,
  ctx: ActionContext,
  clients: (s: string) => AksClients,
): Promise<ActionOutcome> {
  const ref = fleetRef(i);
  const ids = await fleetMembers(clients(ref.subscription), ref.resourceGroup, ref.name);
  const members = await planClusters(clients, ids, {
    target: i.targetVersion,
    pools: i.nodePools,
    now: new Date(),
    concurrency: i.concurrency,
  });
  // One run takes every member to one version: the lowest any member can reach in this run.
  const version = members.map((m) => m.target.path[0] ?? m.target.version).sort(compareVersions)[0] ?? "";
  const plan: FleetPlan = {
    schema: "platform.aks/fleet-plan@1",
    fleet: ref,
    version,
    upgradeType: i.fleetUpgradeType,
    members,
  };
  const file = inWorkspace(ctx, i.planFile);
  await writeFileAtomic(file, `${JSON.stringify(plan, null, 2)}\n`, { input: "plan-file" });
  ctx.summary.verdict(
    members.some((m) => m.blocked) ? "fail" : "pass",
    `Fleet ${ref.name}: ${members.length} member(s) to ${version} (${i.fleetUpgradeType})`,
  );
  ctx.summary.table(
    ["member", "current", "target", "steps", "blockers"],
    members.map((m) => [
      m.cluster.name,
      m.cluster.kubernetesVersion,
      m.target.version,
      m.steps.length,
      m.findings.filter((f) => f.severity === "blocker").length,
    ]),
  );
  const blocked = members.filter((m) => m.blocked);
  return {
    outputs: {
      plan: JSON.stringify(plan),
      "plan-file": file,
      "target-version": version,
      status: blocked.length ? "blocked" : "planned",
    },
    result: plan,
    failure: blocked.length
      ? new PlatformError(
          "AKS_PLAN_BLOCKED",
          `Fleet members blocked: ${blocked.map((m) => m.cluster.name).join(", ")}`,
          {
            category: "verdict",
            hint: "See each member's risks in the summary; fix them and plan again.",
          },
        )
      : undefined,
  };
}

async function fleetApply(
  i: Inputs,
  ctx: ActionContext,
  clients: (s: string) => AksClients,
): Promise<ActionOutcome> {
  const ref = fleetRef(i);
  if (!i.plan)
    throw new PlatformError("AKS_PLAN_MISSING", "mode: apply needs the fleet plan", { input: "plan-file" });
  const plan = (await readPlanFile(inWorkspace(ctx, i.plan))) as unknown as FleetPlan;
  if (
    plan.schema !== "platform.aks/fleet-plan@1" ||
    plan.fleet.name !== ref.name ||
    plan.fleet.resourceGroup !== ref.resourceGroup
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
  if (plan.members.some((m) => m.blocked)) {
    throw new PlatformError("AKS_PLAN_BLOCKED", "The fleet plan has blocked members; it cannot be applied", {
      category: "verdict",
      input: "plan-file",
      hint: "Fix the blockers in the plan's summary, then plan again.",
    });
  }
  const run = await runFleetUpdate(clients(ref.subscription), {
    resourceGroup: ref.resourceGroup,
    fleet: ref.name,
    runName: `platform-${ctx.github.runId ?? Date.now()}`,
    upgradeType: plan.upgradeType,
    kubernetesVersion: plan.version,
    stages: i.fleetStages ? parseStages(i.fleetStages) : undefined,
    updateStrategyId: i.updateStrategy,
    pollIntervalMs: i.pollInterval * 1000,
    log: ctx.log,
    onStatus: (r) =>
      ctx.log.info(
        (r.properties?.status?.stages ?? [])
          .map((st) => `${st.name}: ${st.status?.state ?? "NotStarted"}`)
          .join(", ") || "starting",
      ),
  });
  const state = run.properties?.status?.status?.state ?? "Unknown";
  ctx.summary.verdict(
    state === "Completed" ? "pass" : "fail",
    `Fleet update run ${run.name ?? ""}: ${state}`,
  );
  const rows = updateRunRows(run);
  ctx.summary.table(
    ["stage", "group", "member", "state", "message"],
    rows.map((r) => [r.stage, r.group, r.member, r.state, r.message]),
  );
  return {
    outputs: { "target-version": plan.version, status: state },
    result: { run: run.name, state, rows },
    failure:
      state === "Completed"
        ? undefined
        : new PlatformError(
            "AKS_FLEET_RUN",
            `Update run ${run.name} ended ${state}: ${run.properties?.status?.status?.error?.message ?? ""}`,
            {
              category: "environment",
              hint: "See the member that failed in the summary; fix it, then start a new run (finished members are already upgraded).",
            },
          ),
  };
}
