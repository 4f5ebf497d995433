import type { UpdateStage } from "@azure/arm-containerservicefleet";
import { type FleetConfig, isPlatformError, type Logger, mapLimit } from "@platform/core";
import type { FleetMember, FleetUpgradeType } from "./fleet.ts";
import { loadConfigRepo } from "./manifests.ts";
import type { Finding } from "./types.ts";
import { apiFindings, drainFindings, type ManifestObject } from "./workloads.ts";

/** A member as the risk report reads it: Fleet's member plus the version its cluster runs. */
export interface FleetRiskMember extends FleetMember {
  kubernetesVersion: string;
}

/** One member's risks, in the stage the update run reaches it. */
export interface MemberRisk {
  member: string;
  cluster: string;
  group?: string;
  /** The update run's stage that upgrades it (`default` without stages; `(no stage)` when no stage names its group). */
  stage: string;
  paths: string[];
  objects: number;
  from: string;
  to: string;
  findings: Finding[];
  blocked: boolean;
}

/** The fleet-wide risk report the plan carries: apply refuses a plan whose report is missing or blocked. */
export interface FleetRiskReport {
  schema: "platform.aks/fleet-risk@1";
  version: string;
  upgradeType: FleetUpgradeType;
  /** Stage names in run order. */
  stages: string[];
  /** Ordered by stage, then member name. */
  members: MemberRisk[];
  /** platform.yaml has a `fleet.members` list; without one no member's manifests were checked. */
  configured: boolean;
  /** fleet.members entries that name no member of the fleet. */
  unmatched: string[];
  blocked: boolean;
  blockers: Array<{ stage: string; member: string; check: string; reason: string }>;
  /** Distinct path sets rendered (members sharing paths share one render). */
  renders: number;
  durationMs: number;
}

export interface FleetRiskInput {
  members: FleetRiskMember[];
  /** The one version the update run takes every member to. */
  version: string;
  upgradeType: FleetUpgradeType;
  stages?: UpdateStage[];
  /** platform.yaml's `fleet` section. */
  fleet?: FleetConfig;
  /** platform.yaml's path, named by the findings about a member's entry. */
  configFile?: string;
  /** The config repo: member paths resolve against it and may not leave it. */
  root: string;
  tools?: { kustomize?: string; helm?: string };
  /** Renders at once (each runs kustomize or helm; default 4). */
  concurrency?: number;
  log?: Logger;
}

const NO_STAGE = "(no stage)";

/** The stage of each update group; without stages Fleet runs every member in one `default` stage. */
function stageOfGroup(stages: UpdateStage[] | undefined): (group: string | undefined) => string {
  if (!stages?.length) return () => "default";
  const byGroup = new Map(stages.flatMap((s) => (s.groups ?? []).map((g) => [g.name, s.name] as const)));
  return (group) => (group !== undefined && byGroup.get(group)) || NO_STAGE;
}

const clusterName = (id: string) => id.split("/").at(-1) ?? id;

type Render = { objects: ManifestObject[] } | { error: Finding };

/**
 * Every member's removed/deprecated APIs (for the run's version) and PodDisruptionBudgets that block a
 * drain, from its config-repo paths in platform.yaml, with the single-cluster plan's checks. Fails closed:
 * a member without an entry, a path that does not render or renders nothing is a blocker, never skipped.
 */
export async function fleetRiskReport(i: FleetRiskInput): Promise<FleetRiskReport> {
  const t0 = performance.now();
  const entries = i.fleet?.members ?? [];
  const configured = entries.length > 0;
  const entryFor = (m: FleetMember) => {
    const names = [m.name.toLowerCase(), clusterName(m.clusterId).toLowerCase()];
    return entries.find((e) => names.includes(e.name.toLowerCase()));
  };
  const renders = new Map<string, Promise<Render>>();
  const render = (paths: string[]): Promise<Render> => {
    const key = JSON.stringify(paths);
    let r = renders.get(key);
    if (!r) {
      r = loadConfigRepo(paths, { root: i.root, tools: i.tools, log: i.log }).then(
        ({ objects }) => ({ objects }),
        (err: unknown) => {
          if (!isPlatformError(err)) throw err;
          return {
            error: {
              check: "config-repo-unreadable",
              severity: "blocker",
              message: `config repo path ${paths.join(", ")} does not render: ${err.message.replace(/^config-repo-path: /, "")}`,
              fix: "Fix the path in platform.yaml fleet.members or the manifests it names, then plan again.",
              file: err.file ?? i.configFile,
              line: err.line,
            },
          };
        },
      );
      renders.set(key, r);
    }
    return r;
  };
  const stageOf = stageOfGroup(i.stages);
  const apis = i.upgradeType !== "NodeImageOnly";
  const drains = i.upgradeType !== "ControlPlaneOnly";
  const members = await mapLimit(i.members, i.concurrency ?? 4, async (m): Promise<MemberRisk> => {
    const entry = entryFor(m);
    const paths = entry ? (Array.isArray(entry.path) ? entry.path : [entry.path]) : [];
    const base = {
      member: m.name,
      cluster: clusterName(m.clusterId),
      group: m.group,
      stage: stageOf(m.group),
      paths,
      from: m.kubernetesVersion,
      to: apis ? i.version : m.kubernetesVersion,
    };
    const findings: Finding[] = [];
    let objects = 0;
    if (!entry) {
      findings.push({
        check: configured ? "config-repo-missing" : "config-repo-not-configured",
        severity: configured ? "blocker" : "warning",
        message: configured
          ? `member ${m.name} has no entry in platform.yaml fleet.members: its manifests cannot be checked`
          : `platform.yaml has no fleet.members: member ${m.name}'s manifests were not checked`,
        fix: `Add { name: ${m.name}, path: <its config-repo path> } to fleet.members in platform.yaml.`,
        subject: `member ${m.name}`,
        file: i.configFile,
      });
    } else {
      const r = await render(paths);
      if ("error" in r) findings.push({ ...r.error, subject: `member ${m.name}` });
      else if (r.objects.length === 0) {
        findings.push({
          check: "config-repo-empty",
          severity: "blocker",
          message: `config repo path ${paths.join(", ")} of member ${m.name} renders no objects: nothing was checked`,
          fix: "Point fleet.members' path at the directory the member's GitOps agent applies.",
          subject: `member ${m.name}`,
          file: i.configFile,
        });
      } else {
        objects = r.objects.length;
        if (apis) findings.push(...apiFindings(r.objects, m.kubernetesVersion, i.version));
        if (drains) findings.push(...drainFindings(r.objects));
      }
    }
    return { ...base, objects, findings, blocked: findings.some((f) => f.severity === "blocker") };
  });
  const order = new Map((i.stages?.length ? i.stages.map((s) => s.name) : ["default"]).map((n, k) => [n, k]));
  members.sort(
    (a, b) =>
      (order.get(a.stage) ?? order.size) - (order.get(b.stage) ?? order.size) ||
      a.member.localeCompare(b.member),
  );
  const blockers = members.flatMap((m) =>
    m.findings
      .filter((f) => f.severity === "blocker")
      .map((f) => ({ stage: m.stage, member: m.member, check: f.check, reason: f.message })),
  );
  const known = i.members.flatMap((m) => [m.name.toLowerCase(), clusterName(m.clusterId).toLowerCase()]);
  return {
    schema: "platform.aks/fleet-risk@1",
    version: i.version,
    upgradeType: i.upgradeType,
    stages: [...order.keys()],
    members,
    configured,
    unmatched: entries.filter((e) => !known.includes(e.name.toLowerCase())).map((e) => e.name),
    blocked: blockers.length > 0,
    blockers,
    renders: renders.size,
    durationMs: Math.round(performance.now() - t0),
  };
}
