import { join } from "node:path";
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
  /** root as the repository names it (relative to the workspace): finding files are given from there, for annotations and links. */
  rootName?: string;
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

/** The renders of every member's config-repo paths, started at once (so they overlap the ARM reads). */
export interface FleetManifests {
  configured: boolean;
  /** The member's fleet.members paths, and their render; none without an entry. */
  of(m: FleetMember): { paths: string[]; render?: Promise<Render> };
  /** fleet.members entries that name no member. */
  unmatched: string[];
  renders: number;
  startedAt: number;
}

/** Starts rendering each distinct path set of the members' fleet.members entries, a few at a time. */
export function renderFleetManifests(
  members: FleetMember[],
  i: Pick<FleetRiskInput, "fleet" | "configFile" | "root" | "rootName" | "tools" | "concurrency" | "log">,
): FleetManifests {
  const startedAt = performance.now();
  const entries = i.fleet?.members ?? [];
  const names = (m: FleetMember) => [m.name.toLowerCase(), clusterName(m.clusterId).toLowerCase()];
  // By member name: the report gets the members again, with their versions, as new objects.
  const pathsOf = new Map<string, string[]>();
  for (const m of members) {
    const e = entries.find((x) => names(m).includes(x.name.toLowerCase()));
    if (e) pathsOf.set(m.name, Array.isArray(e.path) ? e.path : [e.path]);
  }
  const keys = [...new Set([...pathsOf.values()].map((p) => JSON.stringify(p)))];
  const renderOne = (key: string): Promise<Render> => {
    const paths = JSON.parse(key) as string[];
    return loadConfigRepo(paths, { root: i.root, tools: i.tools, log: i.log }).then(
      ({ objects }) => ({
        objects: i.rootName
          ? objects.map((o) => ({ ...o, file: o.file && join(i.rootName!, o.file) }))
          : objects,
      }),
      (err: unknown) => {
        if (!isPlatformError(err)) throw err;
        return {
          error: {
            check: "config-repo-unreadable",
            severity: "blocker",
            message: `config repo path ${paths.join(", ")} does not render: ${err.message.replace(/^config-repo-path: /, "")}`,
            fix: "Fix the path in platform.yaml fleet.members or the manifests it names, then plan again.",
            file: err.file ? join(i.rootName ?? "", err.file) : i.configFile,
            line: err.line,
          },
        };
      },
    );
  };
  const all = mapLimit(keys, i.concurrency ?? 4, renderOne);
  // Awaited by the report; a caller that fails first (an ARM error) must not leave it unhandled.
  all.catch(() => undefined);
  const known = members.flatMap(names);
  return {
    configured: entries.length > 0,
    of(m) {
      const paths = pathsOf.get(m.name);
      if (!paths) return { paths: [] };
      const k = keys.indexOf(JSON.stringify(paths));
      return { paths, render: all.then((rs) => rs[k]!) };
    },
    unmatched: entries.filter((e) => !known.includes(e.name.toLowerCase())).map((e) => e.name),
    renders: keys.length,
    startedAt,
  };
}

/**
 * Every member's removed/deprecated APIs (for the run's version) and PodDisruptionBudgets that block a
 * drain, from its config-repo paths in platform.yaml, with the single-cluster plan's checks. Fails closed:
 * a member without an entry, a path that does not render or renders nothing is a blocker, never skipped.
 */
export async function fleetRiskReport(
  i: FleetRiskInput & { manifests?: FleetManifests },
): Promise<FleetRiskReport> {
  const loaded = i.manifests ?? renderFleetManifests(i.members, i);
  const configured = loaded.configured;
  const stageOf = stageOfGroup(i.stages);
  const apis = i.upgradeType !== "NodeImageOnly";
  const drains = i.upgradeType !== "ControlPlaneOnly";
  const members = await Promise.all(
    i.members.map(async (m): Promise<MemberRisk> => {
      const { paths, render } = loaded.of(m);
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
      if (!render) {
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
        const r = await render;
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
    }),
  );
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
  return {
    schema: "platform.aks/fleet-risk@1",
    version: i.version,
    upgradeType: i.upgradeType,
    stages: [...order.keys()],
    members,
    configured,
    unmatched: loaded.unmatched,
    blocked: blockers.length > 0,
    blockers,
    renders: loaded.renders,
    durationMs: Math.round(performance.now() - loaded.startedAt),
  };
}
