import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { AksClients, ApplyResult, ClusterSnapshot, UpgradePlan } from "@platform/aks";
import type { Logger } from "@platform/core";
import { ExitCode, PlatformError } from "@platform/core/errors";
import type { Command } from "commander";
import {
  type Cli,
  configExplicit,
  deprecatedAlias,
  examples,
  withAzure,
  withOutput,
  withRoot,
} from "./cli.ts";
import { listOption } from "./options.ts";
import { findTool } from "./tools.ts";
import { runUpgradeFleetPlan, withFleetOptions } from "./upgrade-fleet.ts";

export interface UpgradeIo {
  out: (s: string) => void;
  log: Logger;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** ARM clients to use instead of signing in (tests against the ARM fake). */
  clients?: (subscription: string) => AksClients;
}

interface Common {
  subscriptionId?: string;
  tenantId?: string;
  clientId?: string;
  resourceGroup?: string;
  cluster?: string;
  armEndpoint?: string;
  authorityHost?: string;
  root: string;
  json: boolean;
}

// @platform/aks (the ARM SDKs) loads when an upgrade command runs, not at CLI start-up.
const aks = () => import("@platform/aks");

async function clients(o: Common, io: UpgradeIo): Promise<(subscription: string) => AksClients> {
  const { createAksClients } = await aks();
  // Signed in on the first token request, so input errors (cluster reference, plan file) come first.
  const { lazyAzureCredential } = await import("@platform/azure");
  const credential = lazyAzureCredential({
    env: io.env,
    log: io.log,
    authorityHost: o.authorityHost,
    tenantId: o.tenantId,
    clientId: o.clientId,
  });
  return (subscription: string) =>
    createAksClients(credential, subscription, { armEndpoint: o.armEndpoint, log: io.log });
}

/** A cluster description file (JSON, as upgrade plan --description takes it), or an input error naming it. */
async function readDescription(path: string, shown: string): Promise<ClusterSnapshot> {
  const fail = (why: string, cause: unknown) =>
    new PlatformError("AKS_DESCRIPTION_INVALID", `${shown}: ${why}`, {
      input: "description",
      file: shown,
      hint: "Pass a cluster description JSON (see examples/northwind/cluster/aks-northwind-prod.json).",
      cause,
    });
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw fail(`cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`, err);
  }
  try {
    return JSON.parse(text) as ClusterSnapshot;
  } catch (err) {
    throw fail(`not JSON: ${(err as Error).message}`, err);
  }
}

/** `platform upgrade plan`: reads the cluster (or a cluster description file, offline) and prints the plan. */
export async function runUpgradePlan(
  o: Common & {
    targetVersion: string;
    nodePools: string[];
    configRepoPath: string[];
    planFile?: string;
    description?: string;
  },
  io: UpgradeIo,
): Promise<number> {
  const { planCluster, planFromSnapshot, planText } = await aks();
  const root = resolve(o.root);
  const common = {
    targetVersion: o.targetVersion,
    nodePools: o.nodePools,
    configRepoPath: o.configRepoPath,
    root,
    tools: { kustomize: findTool("kustomize", io.env), helm: findTool("helm", io.env) },
    log: io.log,
  };
  let plan: UpgradePlan;
  if (o.description) {
    const snapshot = await readDescription(resolve(root, o.description), o.description);
    plan = await planFromSnapshot(snapshot, common);
  } else {
    if (!o.cluster) {
      throw new PlatformError("AKS_CLUSTER_MISSING", "upgrade plan needs --cluster (or --description)", {
        input: "cluster",
        hint: "Give --cluster with --subscription-id and --resource-group, or the cluster's resource ID.",
      });
    }
    plan = await planCluster(await clients(o, io), {
      ...common,
      subscription: o.subscriptionId ?? io.env.AZURE_SUBSCRIPTION_ID,
      resourceGroup: o.resourceGroup,
      cluster: o.cluster,
    });
  }
  const { writeFileAtomic } = await import("@platform/core");
  if (o.planFile) {
    await writeFileAtomic(resolve(root, o.planFile), `${JSON.stringify(plan, null, 2)}\n`, {
      input: "plan-file",
    });
    io.log.info(`plan written to ${o.planFile}`);
  }
  io.out(o.json ? `${JSON.stringify(plan, null, 2)}\n` : planText(plan));
  return plan.blocked ? ExitCode.verdict : ExitCode.ok;
}

/** `platform upgrade apply`: executes a plan file, resumable through its state file. */
export async function runUpgradeApply(
  o: Common & {
    planFile: string;
    state: string;
    force: boolean;
    overrideDeprecatedApis: boolean;
    pollInterval: string;
    heartbeat?: string;
  },
  io: UpgradeIo,
): Promise<number> {
  const { applyCluster, readPlanFile } = await aks();
  const root = resolve(o.root);
  const plan = await readPlanFile(resolve(root, o.planFile));
  const r: ApplyResult = await applyCluster(io.clients ?? (await clients(o, io)), {
    subscription: o.subscriptionId ?? io.env.AZURE_SUBSCRIPTION_ID,
    resourceGroup: o.resourceGroup,
    cluster: o.cluster,
    plan,
    statePath: resolve(root, o.state),
    force: o.force,
    overrideDeprecatedApis: o.overrideDeprecatedApis,
    pollIntervalMs: Number(o.pollInterval) * 1000,
    log: io.log,
    heartbeatMs: Number(o.heartbeat ?? "30") * 1000,
  });
  if (o.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
  else if (r.status === "succeeded")
    io.out(`upgraded ${plan.cluster.name} to ${plan.target.version}: ${r.completed.join(", ")}\n`);
  else if (r.status === "failed") io.out(`${r.step} failed: ${r.code}: ${r.message}\nwhat to do: ${r.fix}\n`);
  else
    io.out(
      `not started: ${r.step} is outside the maintenance window (${r.window}); use --force to upgrade now\n`,
    );
  return r.status === "succeeded"
    ? ExitCode.ok
    : r.status === "failed"
      ? ExitCode.environment
      : ExitCode.verdict;
}

/** Registers `upgrade plan` and `upgrade apply`. */
export function registerUpgrade(program: Command, cli: Cli): void {
  const upgrade = program
    .command("upgrade")
    .description("plan and apply AKS upgrades (one minor at a time, with risk checks)");
  const common = (c: Command) =>
    withOutput(
      withRoot(
        withAzure(c, { subscription: "subscription of the cluster" })
          .option("--resource-group <name>", "resource group of the cluster")
          .option("--cluster <name>", "cluster name or resource ID")
          .option("--arm-endpoint <url>", "Azure Resource Manager endpoint (sovereign clouds)")
          .option("--authority-host <url>", "Microsoft Entra authority host (sovereign clouds)"),
        "directory paths are relative to",
      ),
    );
  const plan = common(
    upgrade
      .command("plan")
      .description("read the cluster, check the risks and print the ordered steps")
      .option("--target-version <v>", "latest-patch, latest-minor or x.y.z", "latest-patch")
      .option("--node-pools <list>", "pools to upgrade (default: all)", listOption, [])
      .option("--config-repo-path <paths>", "config repo paths to render and check", listOption, [])
      .option("--plan-file <file>", "write the plan JSON here (for upgrade apply)")
      .option("--description <file>", "plan from a cluster description JSON instead of ARM (offline)"),
  );
  withFleetOptions(plan);
  examples(
    plan,
    "$ platform upgrade plan --subscription-id $SUB --resource-group rg-aks --cluster aks-prod --plan-file plan.json",
    "$ platform upgrade plan --cluster /subscriptions/…/managedClusters/aks-prod --target-version latest-minor --config-repo-path apps/",
    "$ platform upgrade plan --description cluster.json --target-version 1.33.2 -o json",
    '$ platform upgrade plan --fleet fleet-prod --resource-group rg-fleet --fleet-stages "canary=canary@3600; prod=prod"',
  );
  plan.action(async (o, c: Command) =>
    cli.done(
      o.fleet
        ? await runUpgradeFleetPlan({ ...o, configExplicit: configExplicit(c) }, cli, await clients(o, cli))
        : await runUpgradePlan(o, cli),
    ),
  );
  const apply = common(
    upgrade
      .command("apply")
      .description("execute a plan: If-Match, one pool at a time, resumable from --state")
      .requiredOption("--plan-file <file>", "the plan JSON upgrade plan wrote (its --plan-file)")
      .option("--state <file>", "resume state file", "cluster-upgrade-state.json")
      .option("--force", "apply outside the maintenance window", false)
      .option("--override-deprecated-apis", "set forceUpgrade despite deprecated API usage", false)
      .option("--poll-interval <seconds>", "poll interval without Retry-After", "30")
      .option("--heartbeat <seconds>", "print a still-running line this often while a step runs", "30"),
  );
  examples(
    apply,
    "$ platform upgrade apply --plan-file plan.json",
    "$ platform upgrade apply --plan-file plan.json --state upgrade-state.json --force --heartbeat 60",
  );
  deprecatedAlias(apply, "plan", "plan-file");
  apply.action(async (o) => cli.done(await runUpgradeApply(o, cli)));
}

/** The demo's upgrade: the bundled Northwind cluster planned to the latest minor, offline. */
export async function demoUpgrade(example: string, io: { out: (s: string) => void }): Promise<void> {
  io.out(
    `\nCluster upgrade plan for the bundled Northwind cluster (offline; platform upgrade plan --description …):\n${await (await aks()).demoUpgradeText(example)}`,
  );
}
