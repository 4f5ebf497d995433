export { opaRegoCompiler, type RegoCompiler } from "./admission/engines.ts";
export type { AdmissionRequest } from "./admission/request.ts";
export { type CaseResult, runGatorSuites, runKyvernoTests } from "./admission/suites.ts";
export { BUILTIN_RULES, type BuiltinRule, type RuleScope } from "./builtin/rules.ts";
export { builtinsAsVap } from "./builtin/vap.ts";
export { type CelEngine, type CelProgram, createCelEngine } from "./cel/engine.ts";
export { type ChangeSelection, type GlobalInput, selectChanged } from "./changed.ts";
export {
  decideGate,
  type PolicyCheckDeps,
  type PolicyCheckInput,
  type PolicyCheckResult,
  type PolicyMode,
  policyCheck,
} from "./check.ts";
export {
  type BuiltinParams,
  builtinParams,
  type CompiledPolicy,
  compileBuiltins,
  type EvalTarget,
  evaluateAll,
} from "./evaluate.ts";
export { type BaseHistory, type ChangedFile, type ChangeSet, GitRepo, gitChangesSince } from "./git.ts";
export {
  DEFAULT_KUBE_VERSION,
  type LoadOptions,
  type LoadResult,
  loadManifests,
  type RenderMode,
} from "./manifests.ts";
export {
  mergeShards,
  readShardResults,
  type ShardResultFile,
  shardResultFile,
  shardResultFiles,
  writeRunFiles,
  writeShardResult,
} from "./merge.ts";
export { podTarget } from "./podspec.ts";
export { loadPolicies, type PolicySelection } from "./policies.ts";
export {
  PRESETS,
  type PresetEffect,
  type PresetOptions,
  presetDocuments,
  trustedRegistriesRegex,
} from "./presets.ts";
export {
  countsByPolicy,
  findings,
  type PolicyCounts,
  renderTable,
  summaryLine,
  worstObjects,
} from "./report.ts";
export { toSarif } from "./sarif.ts";
export { describeScope, type ScopeReport } from "./scope.ts";
export { parseShard, type ShardSpec, shardUnits } from "./shard.ts";
export type {
  KubeObject,
  LoadedObject,
  PolicyResult,
  Severity,
  SkippedInput,
  SourceRef,
  Verdict,
} from "./types.ts";
export { readUnitCache, type UnitCache, type UnitRecord, writeUnitCache } from "./units.ts";
export { applyWaivers, loadWaivers, type Waiver } from "./waivers.ts";
