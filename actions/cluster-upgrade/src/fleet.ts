import { dirname, relative, resolve } from "node:path";
import {
  type AksClients,
  checkFleetPlan,
  type FleetPlan,
  fleetRiskMarkdown,
  fleetRiskText,
  parseStages,
  planFleet,
  readPlanFile,
  runFleetUpdate,
  updateRunRows,
} from "@platform/aks";
import { PlatformError, writeFileAtomic } from "@platform/core";
import { type ActionContext, type ActionOutcome, loadWorkspaceConfig } from "@platform/github";
import type { Inputs } from "./run.ts";

function fleetRef(i: Inputs) {
  if (!i.subscription || !i.resourceGroup) {
    throw new PlatformError("AKS_FLEET_REF", "fleet needs subscription-id and resource-group", {
      input: i.subscription ? "resource-group" : "subscription-id",
      hint: "Give the fleet's subscription-id and resource-group.",
    });
  }
  return { subscription: i.subscription, resourceGroup: i.resourceGroup, name: i.fleet! };
}

/** Plan mode for a fleet: every member's plan and the fleet-wide risk report, before any update run exists. */
export async function fleetPlan(
  i: Inputs,
  ctx: ActionContext,
  clients: (s: string) => AksClients,
): Promise<ActionOutcome> {
  const ref = fleetRef(i);
  const stages = i.fleetStages ? parseStages(i.fleetStages) : undefined;
  const { config, source } = await loadWorkspaceConfig(ctx.workspace, i.config);
  const plan = await planFleet(clients, {
    fleet: ref,
    targetVersion: i.targetVersion,
    nodePools: i.nodePools,
    upgradeType: i.fleetUpgradeType,
    stages,
    updateStrategyId: i.updateStrategy,
    fleetConfig: config.fleet,
    configFile: source ? relative(ctx.workspace, source) : undefined,
    // Member paths are the config repo's: relative to platform.yaml, and never outside its directory.
    root: source ? dirname(source) : ctx.workspace,
    rootName: source ? relative(ctx.workspace, dirname(source)) : undefined,
    tools: { kustomize: ctx.env.PLATFORM_KUSTOMIZE, helm: ctx.env.PLATFORM_HELM },
    concurrency: i.concurrency,
    log: ctx.log,
  });
  const { members, risk, version } = plan;
  const file = resolve(ctx.workspace, i.planFile);
  await writeFileAtomic(file, `${JSON.stringify(plan, null, 2)}\n`, { input: "plan-file" });
  ctx.log.info(fleetRiskText(risk));
  ctx.summary.verdict(
    plan.blocked ? "fail" : "pass",
    `Fleet ${ref.name}: ${members.length} member(s) to ${version} (${i.fleetUpgradeType})${plan.updateStrategyId ? `, update strategy ${plan.updateStrategyId.split("/").at(-1)}` : ""}`,
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
  ctx.summary.raw(fleetRiskMarkdown(risk, ctx.github), 0);
  for (const m of risk.members) {
    for (const f of m.findings.filter((x) => x.severity !== "info")) {
      ctx.annotate({
        level: f.severity === "blocker" ? "error" : "warning",
        title: `${m.stage}/${m.member}: ${f.check}`,
        message: `${f.message}. Fix: ${f.fix}`,
        file: f.file,
        line: f.line,
      });
    }
  }
  const blockedMembers = members.filter((m) => m.blocked).map((m) => `${m.cluster.name}: cluster checks`);
  const reasons = [...risk.blockers.map((b) => `${b.stage}/${b.member}: ${b.reason}`), ...blockedMembers];
  return {
    outputs: {
      plan: JSON.stringify(plan),
      "plan-file": file,
      "target-version": version,
      status: plan.blocked ? "blocked" : "planned",
    },
    result: plan,
    failure: plan.blocked
      ? new PlatformError("AKS_PLAN_BLOCKED", `Fleet ${ref.name} is blocked: ${reasons.join("; ")}`, {
          category: "verdict",
          hint: "No update run was created. Fix each member's blockers (the summary's risk report), then plan again.",
        })
      : undefined,
  };
}

/** Apply mode for a fleet: refuses a plan without a clean risk report, then runs the update run stage by stage. */
export async function fleetApply(
  i: Inputs,
  ctx: ActionContext,
  clients: (s: string) => AksClients,
): Promise<ActionOutcome> {
  const ref = fleetRef(i);
  if (!i.plan)
    throw new PlatformError("AKS_PLAN_MISSING", "mode: apply needs the fleet plan", { input: "plan-file" });
  const plan = (await readPlanFile(resolve(ctx.workspace, i.plan))) as unknown as FleetPlan;
  const c = clients(ref.subscription);
  const run = await runFleetUpdate(c, {
    resourceGroup: ref.resourceGroup,
    fleet: ref.name,
    runName: `platform-${ctx.github.runId ?? Date.now()}`,
    upgradeType: plan.upgradeType,
    kubernetesVersion: plan.version,
    ...(await checkFleetPlan(c, plan, ref, {
      stages: i.fleetStages ? parseStages(i.fleetStages) : undefined,
      updateStrategyId: i.updateStrategy,
    })),
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
