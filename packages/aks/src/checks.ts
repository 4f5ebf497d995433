import type { ClusterSnapshot, Finding, PoolSnapshot } from "./types.ts";
import { minorOf } from "./versions.ts";

const SETTLED = new Set(["Succeeded", "Failed", "Canceled"]);

/** The cluster's own signals: an operation under way, a failed last operation, a stopped cluster, an unsupported version. */
export function clusterFindings(s: ClusterSnapshot, targetVersion: string): Finding[] {
  const out: Finding[] = [];
  const state = s.provisioningState;
  if (state && !SETTLED.has(state)) {
    out.push({
      check: "operation-in-progress",
      severity: "blocker",
      message: `Cluster ${s.name} is ${state}: another operation is running`,
      fix: "Wait for it to finish (az aks show -g <rg> -n <name> --query provisioningState), then plan again.",
      subject: `cluster ${s.name}`,
    });
  } else if (state === "Failed") {
    out.push({
      check: "previous-operation-failed",
      severity: "warning",
      message: `The last operation on ${s.name} failed (provisioningState Failed)`,
      fix: "Look up the failed operation in the activity log and fix its cause; the upgrade's PUT also reconciles the cluster, but may fail the same way.",
      subject: `cluster ${s.name}`,
    });
  }
  if (s.powerState === "Stopped") {
    out.push({
      check: "cluster-stopped",
      severity: "blocker",
      message: `Cluster ${s.name} is stopped; a stopped cluster cannot be upgraded`,
      fix: "Start it (az aks start) first.",
      subject: `cluster ${s.name}`,
    });
  }
  const current = minorOf(s.kubernetesVersion);
  const supported = s.versions.find((v) => v.minor === current && !v.isPreview);
  if (!supported) {
    out.push({
      check: "version-out-of-support",
      severity: "warning",
      message: `Kubernetes ${current} is out of support in ${s.location}: the region no longer lists it`,
      fix: "Upgrade now, one minor at a time; out-of-support clusters get no security patches and AKS support is limited to bringing them back.",
      subject: `cluster ${s.name}`,
    });
  } else if (supported.supportPlan?.length && !supported.supportPlan.includes("KubernetesOfficial")) {
    out.push({
      check: "version-lts-only",
      severity: "info",
      message: `Kubernetes ${current} is only supported under the Premium tier's long-term support`,
      fix: "Keep the Premium tier and LTS support plan, or upgrade to a community-supported minor.",
      subject: `cluster ${s.name}`,
    });
  }
  const targetMinor = s.versions.find((v) => v.minor === minorOf(targetVersion));
  if (targetMinor?.isPreview) {
    out.push({
      check: "target-preview",
      severity: "warning",
      message: `Kubernetes ${minorOf(targetVersion)} is a preview version in ${s.location}`,
      fix: "Use a GA version for production clusters.",
    });
  }
  for (const p of s.pools) {
    if (p.provisioningState && !SETTLED.has(p.provisioningState)) {
      out.push({
        check: "operation-in-progress",
        severity: "blocker",
        message: `Node pool ${p.name} is ${p.provisioningState}: another operation is running`,
        fix: "Wait for it to finish, then plan again.",
        subject: `pool ${p.name}`,
      });
    } else if (p.provisioningState === "Failed") {
      out.push({
        check: "previous-operation-failed",
        severity: "warning",
        message: `The last operation on node pool ${p.name} failed`,
        fix: "Check the activity log for the pool's failed operation before upgrading it.",
        subject: `pool ${p.name}`,
      });
    }
  }
  return out;
}

/** Surge and drain settings of a pool that make an upgrade slow or stuck. */
export function poolFindings(p: PoolSnapshot, step: string): Finding[] {
  const out: Finding[] = [];
  const surge = p.maxSurge?.trim();
  if (!surge || surge === "0" || surge === "0%") {
    out.push({
      check: "no-surge",
      severity: "warning",
      message: `Node pool ${p.name} has no maxSurge${surge ? ` (${surge})` : ""}: nodes are replaced one at a time`,
      fix: `Set upgradeSettings.maxSurge (e.g. az aks nodepool update --name ${p.name} --max-surge 33%); production pools: 33%.`,
      subject: `pool ${p.name}`,
      step,
    });
  }
  if (p.drainTimeoutInMinutes === undefined) {
    out.push({
      check: "no-drain-timeout",
      severity: "info",
      message: `Node pool ${p.name} has no drainTimeoutInMinutes: a stuck eviction waits the default 30 minutes, then fails the upgrade`,
      fix: `Set upgradeSettings.drainTimeoutInMinutes to how long your slowest pod needs to stop (az aks nodepool update --name ${p.name} --drain-timeout 15).`,
      subject: `pool ${p.name}`,
      step,
    });
  }
  return out;
}

/** Nodes added per batch: maxSurge as a count or percentage of the pool, at least 1. */
export function surgeNodes(p: PoolSnapshot): number {
  const surge = p.maxSurge?.trim();
  if (!surge) return 1;
  if (surge.endsWith("%")) return Math.max(1, Math.ceil((Number(surge.slice(0, -1)) / 100) * p.count));
  return Math.max(1, Number(surge) || 1);
}
