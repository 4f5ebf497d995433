export {
  type ArmClient,
  type ArmClientOptions,
  type ArmResponse,
  createArmClient,
  PUBLIC_ARM_ENDPOINT,
} from "./arm.ts";
export {
  type Attempt,
  type DrillDeps,
  type DrillResult,
  type DrillState,
  fileStateStore,
  runDrill,
  type StateStore,
  type StepReport,
} from "./drill.ts";
export {
  API_VERSIONS,
  type ArmCall,
  type DrillPlan,
  type DrillStep,
  formatSeconds,
  planDrill,
  planText,
  type StepId,
} from "./plan.ts";
export { resultMarkdown, resultTable } from "./report.ts";
