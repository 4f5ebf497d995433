export { API_REMOVALS, type ApiRemoval, lookupApi } from "./catalogue.ts";
export { AUTO_UPGRADE_SCHEDULE, describeWindow, NODE_OS_SCHEDULE, windowStatus } from "./maintenance.ts";
export { type PlanOptions, planUpgrade } from "./plan.ts";
export { planMarkdown, planText } from "./summary.ts";
export type {
  ClusterSnapshot,
  Finding,
  MaintenanceConfig,
  PlanStep,
  PoolSnapshot,
  RegionVersion,
  TargetSpec,
  UpgradePlan,
} from "./types.ts";
export { compareVersions, offeredVersions, resolveTarget } from "./versions.ts";
export { apiFindings, drainFindings, type ManifestObject } from "./workloads.ts";
