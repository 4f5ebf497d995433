export {
  DEFENDER_ASSESSMENTS,
  type DefenderScanInput,
  type DefenderScanResult,
  defenderQuery,
  parseSubAssessment,
  queryDefenderFindings,
  type ResourceGraphQuery,
  resourceGraphClient,
} from "./defender.ts";
export {
  type Cvss,
  type Finding,
  findingKey,
  mergeFindings,
  normalizeSeverity,
  type ScannerSource,
  SEVERITIES,
  type Severity,
  severityRank,
  sortFindings,
} from "./finding.ts";
export { evaluateGate, type FailOn, type GateOptions, type GateResult, type WaiverUse } from "./gate.ts";
export { type ScanGateInput, type ScanGateResult, scanGate } from "./gate-report.ts";
export { type AcrPromotion, type AcrRegistry, acrLookup } from "./pipeline/acr.ts";
export {
  type Builder,
  type BuildOptions,
  type BuiltImage,
  buildImage,
  NO_BUILD_OPTIONS,
  pickBuilder,
} from "./pipeline/build.ts";
export {
  type BuildScanDeps,
  type BuildScanInput,
  type BuildScanResult,
  buildScan,
  repositoryInput,
} from "./pipeline/build-scan.ts";
export { buildScanDeps, subscriptionsOrEnv } from "./pipeline/deps.ts";
export { type Exec, type ExecResult, spawnExec } from "./pipeline/exec.ts";
export { readTrivyReport, type Scanner, type ScanOutcome, scanImage } from "./pipeline/scanners.ts";
export {
  gateFailure,
  gateHeadline,
  renderScanTable,
  type ScanSubject,
  type SummarySink,
  writeScanSummary,
} from "./report.ts";
export { type SarifOptions, toScanSarif } from "./sarif.ts";
export { type ParsedReport, parseTrivyReport, type TrivyArtifact } from "./trivy.ts";
export { loadScanWaivers, parseWaivers, type ScanWaiver } from "./waivers.ts";
