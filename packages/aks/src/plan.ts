import { PlatformError } from "@platform/core";
import { clusterFindings, poolFindings, surgeNodes } from "./checks.ts";
import { AUTO_UPGRADE_SCHEDULE, describeWindow, NODE_OS_SCHEDULE, windowStatus } from "./maintenance.ts";
import type { ClusterSnapshot, Finding, PlanStep, PoolSnapshot, TargetSpec, UpgradePlan } from "./types.ts";
import { compareVersions, resolveTarget } from "./versions.ts";
import { apiFindings, drainFindings, type ManifestObject } from "./workloads.ts";

export interface PlanOptions {
  target: TargetSpec;
  /** Pools to upgrade; all when empty. */
  pools?: string[];
  /** Rendered manifests of the config repo, for the API and drain checks. */
  manifests?: ManifestObject[];
  now: Date;
}

const CONTROL_PLANE_MINUTES = { minMinutes: 10, maxMinutes: 25 };

function poolDuration(p: PoolSnapshot, perBatch: [number, number]) {
  const batches = Math.ceil(Math.max(1, p.count) / surgeNodes(p));
  return {
    minMinutes: batches * perBatch[0],
    maxMinutes: batches * perBatch[1] + (p.drainTimeoutInMinutes ?? 30),
  };
}

function clusterPath(s: ClusterSnapshot): string {
  return `/subscriptions/${s.subscription}/resourceGroups/${s.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${s.name}`;
}

/** Which pools the upgrade touches; names not in the cluster are an input error. */
export function selectPools(s: ClusterSnapshot, names: string[] | undefined): PoolSnapshot[] {
  if (!names?.length) return s.pools;
  const unknown = names.filter((n) => !s.pools.some((p) => p.name === n));
  if (unknown.length) {
    throw new PlatformError("AKS_POOL_UNKNOWN", `Node pool(s) ${unknown.join(", ")} not found in ${s.name}`, {
      input: "node-pools",
      hint: `The cluster's pools are: ${s.pools.map((p) => p.name).join(", ")}.`,
    });
  }
  return s.pools.filter((p) => names.includes(p.name));
}

/** The upgrade plan: ordered steps (control plane, each pool, node images) with their ARM change, duration and risks. Pure. */
export function planUpgrade(s: ClusterSnapshot, o: PlanOptions): UpgradePlan {
  const { version, path } = resolveTarget(s, o.target);
  const pools = selectPools(s, o.pools);
  const steps: PlanStep[] = [];
  const findings: Finding[] = [...clusterFindings(s, version)];
  const base = clusterPath(s);
  let cp = s.kubernetesVersion;
  const poolVersion = new Map(pools.map((p) => [p.name, p.orchestratorVersion]));
  for (const hop of path) {
    steps.push({
      id: `control-plane@${hop}`,
      kind: "control-plane",
      from: cp,
      to: hop,
      arm: { method: "PUT", path: base, change: { "properties.kubernetesVersion": [cp, hop] } },
      duration: CONTROL_PLANE_MINUTES,
    });
    cp = hop;
    for (const p of pools) {
      const from = poolVersion.get(p.name)!;
      if (compareVersions(from, hop) >= 0) continue;
      steps.push({
        id: `pool:${p.name}@${hop}`,
        kind: "pool",
        pool: p.name,
        from,
        to: hop,
        arm: {
          method: "PUT",
          path: `${base}/agentPools/${p.name}`,
          change: { "properties.orchestratorVersion": [from, hop] },
        },
        duration: poolDuration(p, [4, 10]),
      });
      poolVersion.set(p.name, hop);
    }
  }
  // Pools that lag the control plane without a version change still catch up (e.g. after a control-plane-only upgrade).
  if (path.length === 0) {
    for (const p of pools.filter((x) => compareVersions(x.orchestratorVersion, cp) < 0)) {
      steps.push({
        id: `pool:${p.name}@${cp}`,
        kind: "pool",
        pool: p.name,
        from: p.orchestratorVersion,
        to: cp,
        arm: {
          method: "PUT",
          path: `${base}/agentPools/${p.name}`,
          change: { "properties.orchestratorVersion": [p.orchestratorVersion, cp] },
        },
        duration: poolDuration(p, [4, 10]),
      });
    }
  }
  const upgradedPools = new Set(steps.filter((x) => x.kind === "pool").map((x) => x.pool));
  for (const p of pools) {
    // A version upgrade re-images nodes with the latest image already.
    if (
      upgradedPools.has(p.name) ||
      !p.latestNodeImageVersion ||
      p.latestNodeImageVersion === p.nodeImageVersion
    )
      continue;
    steps.push({
      id: `node-image:${p.name}`,
      kind: "node-image",
      pool: p.name,
      from: p.nodeImageVersion ?? "unknown",
      to: p.latestNodeImageVersion,
      arm: {
        method: "POST",
        path: `${base}/agentPools/${p.name}/upgradeNodeImageVersion`,
        change: { "properties.nodeImageVersion": [p.nodeImageVersion, p.latestNodeImageVersion] },
      },
      duration: poolDuration(p, [3, 8]),
    });
  }
  for (const p of pools) {
    const first = steps.find((x) => x.pool === p.name);
    if (first) findings.push(...poolFindings(p, first.id));
  }
  for (const p of s.pools.filter((x) => !pools.includes(x))) {
    if (compareVersions(p.orchestratorVersion, version) < 0 && path.length > 0) {
      findings.push({
        check: "pool-left-behind",
        severity: "warning",
        message: `Node pool ${p.name} is not in node-pools and stays on ${p.orchestratorVersion} while the control plane goes to ${version}`,
        fix: "Add it to node-pools, or upgrade it in a later run; AKS supports node pools at most three minors behind the control plane.",
        subject: `pool ${p.name}`,
      });
    }
  }
  if (o.manifests) {
    findings.push(...apiFindings(o.manifests, s.kubernetesVersion, version));
    if (steps.some((x) => x.kind !== "control-plane")) findings.push(...drainFindings(o.manifests));
  }
  const configured = s.maintenance.map((m) => m.name);
  for (const name of [AUTO_UPGRADE_SCHEDULE, NODE_OS_SCHEDULE]) {
    if (!configured.includes(name)) {
      findings.push({
        check: "no-maintenance-window",
        severity: "info",
        message: `No ${name} maintenance configuration: applies are not limited to a window`,
        fix: `Create it (az aks maintenanceconfiguration add --name ${name} --schedule-type Weekly --day-of-week Sunday --start-time 01:00 --duration 4).`,
      });
    }
  }
  const windows = s.maintenance
    .filter((m) => m.window)
    .map((m) => {
      const st = windowStatus(m.window!, o.now);
      const when = st.open
        ? `open now until ${st.current!.end.toISOString()}`
        : st.next
          ? `next ${st.next.start.toISOString()} – ${st.next.end.toISOString()}`
          : "no window in the next 120 days";
      return `${describeWindow(m)} (${when})`;
    });
  const sum = (k: "minMinutes" | "maxMinutes") => steps.reduce((n, x) => n + x.duration[k], 0);
  return {
    schema: "platform.aks/upgrade-plan@1",
    createdAt: o.now.toISOString(),
    cluster: {
      id: s.id,
      subscription: s.subscription,
      resourceGroup: s.resourceGroup,
      name: s.name,
      location: s.location,
      etag: s.etag,
      kubernetesVersion: s.kubernetesVersion,
      pools: s.pools.map((p) => ({
        name: p.name,
        etag: p.etag,
        orchestratorVersion: p.orchestratorVersion,
        nodeImageVersion: p.nodeImageVersion,
      })),
    },
    target: { requested: o.target, version, path },
    pools: pools.map((p) => p.name),
    steps,
    findings,
    blocked: findings.some((f) => f.severity === "blocker"),
    maintenance: { windows, configured },
    duration: { minMinutes: sum("minMinutes"), maxMinutes: sum("maxMinutes") },
  };
}
