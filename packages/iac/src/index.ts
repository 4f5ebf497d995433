export { checkBicep, loadParameters, type ParameterSet } from "./check.ts";
export { BicepEvaluator, getProp, isUnknown } from "./evaluate.ts";
export { bicepParser, grammarPath, parseBicep, syntaxErrors } from "./parser.ts";
export { countFindings, isBlocking, renderIacMarkdown, renderIacTable, toIacSarif } from "./report.ts";
export { evaluateRules, IAC_RULES, type IacRule } from "./rules/index.ts";
export {
  type ArmResource,
  type CheckOptions,
  type CheckResult,
  type FindingVerdict,
  type IacFinding,
  type Severity,
  UnknownValue,
  type Value,
} from "./types.ts";
