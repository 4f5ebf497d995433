export {
  type ApplyResult,
  type ApplyState,
  applyPlan,
  checkPlanFor,
  type StateStore,
} from "./apply.ts";
export {
  type AksClients,
  type ArmOptions,
  clusterRef,
  createAksClients,
  PUBLIC_ARM_ENDPOINT,
  readCluster,
} from "./arm.ts";
export { API_REMOVALS, type ApiRemoval, lookupApi } from "./catalogue.ts";
export { demoUpgradeText } from "./demo.ts";
export {
  type FleetMember,
  type FleetRunOptions,
  type FleetUpgradeType,
  fleetMembers,
  listFleetMembers,
  parseStages,
  planClusters,
  runFleetUpdate,
  updateRunRows,
} from "./fleet.ts";
export {
  checkFleetPlan,
  type FleetPlan,
  type FleetPlanInput,
  type FleetRef,
  planFleet,
} from "./fleet-plan.ts";
export {
  type FleetRiskMember,
  type FleetRiskReport,
  fleetRiskReport,
  type MemberRisk,
} from "./fleet-risk.ts";
export { fleetRiskMarkdown, fleetRiskRows, fleetRiskText } from "./fleet-risk-summary.ts";
export { AUTO_UPGRADE_SCHEDULE, describeWindow, NODE_OS_SCHEDULE, windowStatus } from "./maintenance.ts";
export { loadConfigRepo } from "./manifests.ts";
export { type PlanOptions, planUpgrade } from "./plan.ts";
export {
  applyCluster,
  type ClusterApplyInput,
  type ClusterPlanInput,
  planCluster,
  planFromSnapshot,
  readPlanFile,
} from "./run.ts";
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
export { compareVersions, resolveTarget } from "./versions.ts";
export { apiFindings, drainFindings, type ManifestObject } from "./workloads.ts";
