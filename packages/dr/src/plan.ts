import { createHash } from "node:crypto";
import { type DrConfig, PlatformError } from "@platform/core";

// The api-versions the drill speaks (and the ARM fake's spec extracts describe): the stable versions the
// landing-zone Bicep deploys these resources with.
export const API_VERSIONS = {
  cdn: "2025-06-01",
  flux: "2025-04-01",
  acr: "2025-11-01",
} as const;

export type StepId = "front-door" | "flux-resume" | "kustomizations-ready" | "acr-replica";

/** One ARM request of a step, exactly as the drill sends it. */
export interface ArmCall {
  method: "GET" | "PATCH";
  /** Path below the ARM endpoint, without the query. */
  path: string;
  apiVersion: string;
  body?: unknown;
  /** Why the step sends it (e.g. "detect: already priority 1?"). */
  purpose: string;
}

export interface DrillStep {
  id: StepId;
  title: string;
  /** RTO budget of the step: past it, the step fails. */
  budgetSeconds: number;
  calls: ArmCall[];
  /** What the drill reads from ARM to call the step done (also on a re-run, before it acts). */
  doneWhen: string;
}

export interface DrillPlan {
  schema: "platform.dr/drill-plan@1";
  subscription: string;
  from: { region: string; cluster: string; resourceGroup: string; origin: string };
  to: {
    region: string;
    cluster: string;
    resourceGroup: string;
    origin: string;
    fluxConfigurations: string[];
    replication: string;
  };
  steps: DrillStep[];
  budgetSeconds: number;
  pollIntervalSeconds: number;
  /** Stable digest of the steps: a state file of another plan is not resumed. */
  fingerprint: string;
}

const originPath = (sub: string, fd: DrConfig["frontDoor"], origin: string) =>
  `/subscriptions/${sub}/resourceGroups/${fd.resourceGroup}/providers/Microsoft.Cdn/profiles/${fd.profile}/originGroups/${fd.originGroup}/origins/${origin}`;

const fluxPath = (sub: string, rg: string, cluster: string, name: string) =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${cluster}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/${name}`;

const replicationPath = (sub: string, acr: DrConfig["acr"], replication: string) =>
  `/subscriptions/${sub}/resourceGroups/${acr.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${acr.name}/replications/${replication}`;

/** The seed's ordered failover from `dr.primary` to `dr.standby`, with every ARM call and the RTO budget per step. */
export function planDrill(dr: DrConfig | undefined): DrillPlan {
  if (!dr) {
    throw new PlatformError("DR_NOT_CONFIGURED", "platform.yaml has no dr section", {
      input: "config",
      hint: "Add dr: with subscription, primary, standby, regions, frontDoor and acr (see docs/dr-drill.md).",
    });
  }
  const sub = dr.subscription;
  // The schema guarantees both are listed regions.
  const primary = dr.regions.find((r) => r.name === dr.primary)!;
  const standby = dr.regions.find((r) => r.name === dr.standby)!;
  const replication = standby.replication ?? standby.name;
  const fluxPaths = standby.fluxConfigurations.map((n) =>
    fluxPath(sub, standby.resourceGroup, standby.cluster, n),
  );
  const standbyOrigin = originPath(sub, dr.frontDoor, standby.origin);
  const primaryOrigin = originPath(sub, dr.frontDoor, primary.origin);
  const repl = replicationPath(sub, dr.acr, replication);
  const cdn = API_VERSIONS.cdn;
  const flux = API_VERSIONS.flux;
  const steps: DrillStep[] = [
    {
      id: "front-door",
      title: `Front Door: ${standby.origin} (${standby.name}) priority 1, ${primary.origin} (${primary.name}) priority 2`,
      budgetSeconds: dr.rto.frontDoor,
      doneWhen: `${standby.origin} is enabled at priority 1 and ${primary.origin} has priority 2, both provisioningState Succeeded`,
      calls: [
        { method: "GET", path: standbyOrigin, apiVersion: cdn, purpose: "read the standby origin" },
        { method: "GET", path: primaryOrigin, apiVersion: cdn, purpose: "read the primary origin" },
        // Standby first: for a moment both are priority 1 (both serve), never neither.
        {
          method: "PATCH",
          path: standbyOrigin,
          apiVersion: cdn,
          body: { properties: { priority: 1, enabledState: "Enabled" } },
          purpose: "promote the standby origin (long-running)",
        },
        {
          method: "PATCH",
          path: primaryOrigin,
          apiVersion: cdn,
          body: { properties: { priority: 2 } },
          purpose: "demote the primary origin (long-running)",
        },
      ],
    },
    {
      id: "flux-resume",
      title: `Flux: resume ${standby.fluxConfigurations.join(", ")} on ${standby.cluster}`,
      budgetSeconds: dr.rto.fluxResume,
      doneWhen: "every standby Flux configuration has suspend false and provisioningState Succeeded",
      calls: fluxPaths.flatMap((path, i) => [
        {
          method: "GET" as const,
          path,
          apiVersion: flux,
          purpose: `read ${standby.fluxConfigurations[i]}`,
        },
        {
          method: "PATCH" as const,
          path,
          apiVersion: flux,
          body: { properties: { suspend: false } },
          purpose: `un-suspend ${standby.fluxConfigurations[i]} (long-running)`,
        },
      ]),
    },
    {
      id: "kustomizations-ready",
      title: `Flux: every Kustomization of ${standby.fluxConfigurations.join(", ")} Ready`,
      budgetSeconds: dr.rto.kustomizations,
      doneWhen:
        "every standby Flux configuration synced its status after the drill started (statusUpdatedAt), is complianceState Compliant and lists at least one Kustomization, each with condition Ready=True",
      calls: fluxPaths.map((path, i) => ({
        method: "GET" as const,
        path,
        apiVersion: flux,
        purpose: `poll ${standby.fluxConfigurations[i]} every ${dr.pollInterval}s until Ready`,
      })),
    },
    {
      id: "acr-replica",
      title: `ACR: images pull from ${dr.acr.name}'s ${replication} replica (${standby.name})`,
      budgetSeconds: dr.rto.registry,
      doneWhen: `replication ${replication} is in ${standby.name}, provisioningState Succeeded, status Ready, regionEndpointEnabled true`,
      calls: [
        { method: "GET", path: repl, apiVersion: API_VERSIONS.acr, purpose: "read the geo-replica" },
        {
          method: "PATCH",
          path: repl,
          apiVersion: API_VERSIONS.acr,
          body: { properties: { regionEndpointEnabled: true } },
          purpose: "only if its regional endpoint is disabled: route pulls to it (long-running)",
        },
      ],
    },
  ];
  const budgetSeconds = steps.reduce((s, x) => s + x.budgetSeconds, 0);
  const fingerprint = createHash("sha256")
    .update(JSON.stringify({ sub, steps: steps.map((s) => [s.id, s.calls]) }))
    .digest("hex")
    .slice(0, 16);
  return {
    schema: "platform.dr/drill-plan@1",
    subscription: sub,
    from: {
      region: primary.name,
      cluster: primary.cluster,
      resourceGroup: primary.resourceGroup,
      origin: primary.origin,
    },
    to: {
      region: standby.name,
      cluster: standby.cluster,
      resourceGroup: standby.resourceGroup,
      origin: standby.origin,
      fluxConfigurations: standby.fluxConfigurations,
      replication,
    },
    steps,
    budgetSeconds,
    pollIntervalSeconds: dr.pollInterval,
    fingerprint,
  };
}

/** 90 → "1m30s", 1800 → "30m", 45 → "45s". */
export function formatSeconds(s: number): string {
  const total = Math.round(s);
  if (total < 60) return `${total}s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${sec ? `${sec}s` : ""}`;
}

/** The plan as a terminal listing: each step, its budget and its ARM calls (method, path, api-version, body). */
export function planText(plan: DrillPlan): string {
  const lines = [
    `DR drill: fail over from ${plan.from.region} (${plan.from.cluster}) to ${plan.to.region} (${plan.to.cluster})`,
    `RTO budget: ${formatSeconds(plan.budgetSeconds)} in ${plan.steps.length} steps (subscription ${plan.subscription})`,
    "",
  ];
  plan.steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.id} — ${s.title}  [budget ${formatSeconds(s.budgetSeconds)}]`);
    for (const c of s.calls) {
      lines.push(`     ${c.method} ${c.path}?api-version=${c.apiVersion}`);
      if (c.body !== undefined) lines.push(`       body: ${JSON.stringify(c.body)}`);
      lines.push(`       (${c.purpose})`);
    }
    lines.push(`     done when: ${s.doneWhen}`);
  });
  lines.push(
    "",
    "A re-run reads each step's state from ARM first: steps already in place are not repeated, and an operation interrupted mid-flight is resumed.",
  );
  return `${lines.join("\n")}\n`;
}
