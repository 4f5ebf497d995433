import { isAbsolute, join } from "node:path";
import {
  type AksClients,
  applyCluster,
  createAksClients,
  planCluster,
  planMarkdown,
  readPlanFile,
} from "@platform/aks";
import { lazyAzureCredential } from "@platform/azure";
import { PlatformError, writeFileAtomic } from "@platform/core";
import type { ActionContext, ActionOutcome, CamelKeys } from "@platform/github";
import type { z } from "zod";
import { fleetApply, fleetPlan } from "./fleet.ts";
import type { inputs } from "./inputs.ts";
import { checkTarget, missingCluster } from "./required.ts";

/** The inputs as action.yml names them, camel-cased (inputs.ts is the one description). */
export type Inputs = CamelKeys<z.output<typeof inputs>>;

/** ARM clients per subscription, signed in through GitHub OIDC (@platform/azure's credential). */
function clientsFactory(i: Inputs, ctx: ActionContext): (subscription: string) => AksClients {
  const cache = new Map<string, AksClients>();
  // Signed in on the first token request, so input errors surface before any sign-in; the credential skips
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
  checkTarget(i);
  const clients = clientsFactory(i, ctx);
  if (i.fleet) return i.mode === "plan" ? fleetPlan(i, ctx, clients) : fleetApply(i, ctx, clients);
  return i.mode === "plan" ? clusterPlan(i, ctx, clients) : clusterApply(i, ctx, clients);
}

async function clusterPlan(
  i: Inputs,
  ctx: ActionContext,
  clients: (s: string) => AksClients,
): Promise<ActionOutcome> {
  if (!i.cluster) throw missingCluster();
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
      hint: "Download the plan artifact and pass its path as plan-file.",
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
    // A step runs up to an hour: a line a minute shows the job is alive and how long it has been.
    heartbeatMs: 60_000,
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
