/** A node pool as the planner sees it (read from ARM, or from a bundled description). */
export interface PoolSnapshot {
  name: string;
  etag?: string;
  mode?: string;
  osType?: string;
  /** The version the nodes run (currentOrchestratorVersion). */
  orchestratorVersion: string;
  nodeImageVersion?: string;
  /** From the pool's upgrade profile. */
  latestNodeImageVersion?: string;
  count: number;
  maxSurge?: string;
  maxUnavailable?: string;
  drainTimeoutInMinutes?: number;
  provisioningState?: string;
  powerState?: string;
}

/** A minor version the region offers (location kubernetesVersions). */
export interface RegionVersion {
  minor: string;
  isPreview?: boolean;
  isDefault?: boolean;
  supportPlan?: string[];
  patches: string[];
}

export interface MaintenanceWindowSpec {
  schedule: {
    daily?: { intervalDays: number };
    weekly?: { intervalWeeks: number; dayOfWeek: string };
    absoluteMonthly?: { intervalMonths: number; dayOfMonth: number };
    relativeMonthly?: { intervalMonths: number; weekIndex: string; dayOfWeek: string };
  };
  durationHours: number;
  /** "HH:mm" */
  startTime: string;
  /** "+05:30"; default "+00:00". */
  utcOffset?: string;
  /** "YYYY-MM-DD" */
  startDate?: string;
  notAllowedDates?: Array<{ start: string; end: string }>;
}

export interface MaintenanceConfig {
  name: string;
  window?: MaintenanceWindowSpec;
}

/** Everything the planner reads about one cluster: plain data, no SDK types. */
export interface ClusterSnapshot {
  id: string;
  subscription: string;
  resourceGroup: string;
  name: string;
  location: string;
  etag?: string;
  kubernetesVersion: string;
  provisioningState?: string;
  powerState?: string;
  upgradeChannel?: string;
  nodeOSUpgradeChannel?: string;
  pools: PoolSnapshot[];
  /** Control-plane upgrades offered by the cluster's upgrade profile. */
  upgrades: Array<{ kubernetesVersion: string; isPreview?: boolean }>;
  /** Versions the region supports. */
  versions: RegionVersion[];
  maintenance: MaintenanceConfig[];
}

export type Severity = "blocker" | "warning" | "info";

/** One risk found before the upgrade, with the fix. */
export interface Finding {
  /** Stable check id, e.g. `removed-api`, `pdb-blocks-drain`. */
  check: string;
  severity: Severity;
  message: string;
  fix: string;
  /** The Kubernetes object or pool it concerns, e.g. `Deployment shop/orders` or `pool user1`. */
  subject?: string;
  file?: string;
  line?: number;
  /** Id of the step it applies to; none for cluster-wide findings. */
  step?: string;
}

export type StepKind = "control-plane" | "pool" | "node-image";

/** One ARM change, in the order the apply runs them. */
export interface PlanStep {
  id: string;
  kind: StepKind;
  pool?: string;
  from: string;
  to: string;
  arm: {
    method: "PUT" | "POST";
    path: string;
    /** Properties that change, as JSON paths with [from, to]. */
    change: Record<string, [string | undefined, string]>;
  };
  duration: { minMinutes: number; maxMinutes: number };
}

export type TargetSpec = "latest-patch" | "latest-minor" | string;

export interface UpgradePlan {
  schema: "platform.aks/upgrade-plan@1";
  createdAt: string;
  /** The cluster as it was read: apply compares its ETags with the live ones. */
  cluster: Pick<
    ClusterSnapshot,
    "id" | "subscription" | "resourceGroup" | "name" | "location" | "etag" | "kubernetesVersion"
  > & {
    pools: Array<Pick<PoolSnapshot, "name" | "etag" | "orchestratorVersion" | "nodeImageVersion">>;
  };
  target: { requested: TargetSpec; version: string; path: string[] };
  pools: string[];
  steps: PlanStep[];
  findings: Finding[];
  blocked: boolean;
  maintenance: { windows: string[]; configured: string[] };
  duration: { minMinutes: number; maxMinutes: number };
}
