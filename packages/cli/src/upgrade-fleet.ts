import { dirname, relative, resolve } from "node:path";
import type { AksClients, FleetUpgradeType } from "@platform/aks";
import type { Logger } from "@platform/core";
import { ExitCode, PlatformError } from "@platform/core/errors";
import type { Command } from "commander";
import { withConfig } from "./cli.ts";
import { paint, textTable } from "./table.ts";
import { findTool } from "./tools.ts";

const UPGRADE_TYPES: FleetUpgradeType[] = ["Full", "NodeImageOnly", "ControlPlaneOnly"];

/** What `upgrade plan --fleet` reads besides the single-cluster options. */
export interface FleetPlanOptions {
  fleet: string;
  cluster?: string;
  subscriptionId?: string;
  resourceGroup?: string;
  targetVersion: string;
  nodePools: string[];
  fleetStages?: string;
  fleetUpgradeType?: string;
  updateStrategy?: string;
  config: string;
  /** --config was given: a missing file is an error, not the built-in defaults. */
  configExplicit: boolean;
  planFile?: string;
  root: string;
  json: boolean;
}

function upgradeType(v: string | undefined): FleetUpgradeType {
  const t = UPGRADE_TYPES.find((x) => x.toLowerCase() === (v ?? "Full").toLowerCase());
  if (!t) {
    throw new PlatformError(
      "AKS_FLEET_UPGRADE_TYPE",
      `--fleet-upgrade-type ${v} is not one of ${UPGRADE_TYPES.join(", ")}`,
      {
        input: "fleet-upgrade-type",
        hint: "Full upgrades control plane and nodes; NodeImageOnly only node images; ControlPlaneOnly only the control plane.",
      },
    );
  }
  return t;
}

/**
 * `platform upgrade plan --fleet`: every member's plan and the fleet-wide risk report (platform.yaml
 * fleet.members), printed as a table per member and stage, or JSON; exit 1 when any member blocks.
 */
export async function runUpgradeFleetPlan(
  o: FleetPlanOptions,
  io: { out: (s: string) => void; log: Logger; env: NodeJS.ProcessEnv; color?: boolean },
  clients: (subscription: string) => AksClients,
): Promise<number> {
  const { fleetRiskText, parseStages, planFleet } = await import("@platform/aks");
  if (o.cluster) {
    throw new PlatformError("AKS_CLUSTER_AND_FLEET", "Give --cluster or --fleet, not both", {
      input: "fleet",
      hint: "One plan covers one cluster, or every member of one fleet.",
    });
  }
  const subscription = o.subscriptionId ?? io.env.AZURE_SUBSCRIPTION_ID;
  if (!subscription || !o.resourceGroup) {
    throw new PlatformError(
      "AKS_FLEET_REF",
      "upgrade plan --fleet needs --subscription-id and --resource-group",
      {
        input: subscription ? "resource-group" : "subscription-id",
        hint: "Give the fleet's --subscription-id (or $AZURE_SUBSCRIPTION_ID) and --resource-group.",
      },
    );
  }
  const root = resolve(o.root);
  const { loadConfig, writeFileAtomic } = await import("@platform/core");
  const { config, source } = await loadConfig(resolve(root, o.config), { explicit: o.configExplicit });
  const plan = await planFleet(clients, {
    fleet: { subscription, resourceGroup: o.resourceGroup, name: o.fleet },
    targetVersion: o.targetVersion,
    nodePools: o.nodePools,
    upgradeType: upgradeType(o.fleetUpgradeType),
    stages: o.fleetStages ? parseStages(o.fleetStages) : undefined,
    updateStrategyId: o.updateStrategy,
    fleetConfig: config.fleet,
    configFile: source ? relative(root, source) : undefined,
    root: source ? dirname(source) : root,
    rootName: source ? relative(root, dirname(source)) : undefined,
    tools: { kustomize: findTool("kustomize", io.env), helm: findTool("helm", io.env) },
    log: io.log,
  });
  if (o.planFile) {
    await writeFileAtomic(resolve(root, o.planFile), `${JSON.stringify(plan, null, 2)}\n`, {
      input: "plan-file",
    });
    io.log.info(`fleet plan written to ${o.planFile}`);
  }
  if (o.json) io.out(`${JSON.stringify(plan, null, 2)}\n`);
  else {
    const color = io.color ?? false;
    const verdict = (v: string) =>
      paint(color, v === "blocked" ? "red" : v === "warn" ? "yellow" : "green", v);
    io.out(
      fleetRiskText(plan.risk, (header, rows) =>
        textTable(
          header,
          rows.map((row) => [...row.slice(0, -1), verdict(row.at(-1)!)]),
          { color },
        ),
      ),
    );
    for (const p of plan.members.filter((x) => x.blocked))
      io.out(
        `blocked by its own checks: ${p.cluster.name} (platform upgrade plan --cluster ${p.cluster.id})\n`,
      );
  }
  return plan.blocked ? ExitCode.verdict : ExitCode.ok;
}

/** `upgrade plan`'s Fleet options: --fleet plans every member with the fleet-wide risk report. */
export function withFleetOptions<C extends Command>(cmd: C): C {
  cmd
    .option(
      "--fleet <name>",
      "Azure Kubernetes Fleet Manager name: plan every member, with the fleet risk report",
    )
    .option("--fleet-stages <stages>", "update run stages: stage=group1,group2@seconds; stage2=group3")
    .option("--fleet-upgrade-type <type>", "Full, NodeImageOnly or ControlPlaneOnly", "Full")
    .option(
      "--update-strategy <name>",
      "an existing FleetUpdateStrategy of the fleet (name or resource ID) instead of --fleet-stages",
    );
  return withConfig(cmd, "platform.yaml with fleet.members (each member's config-repo paths)");
}
