export {
  type ActionContext,
  type ActionDefinition,
  type ActionOutcome,
  type Annotation,
  defineAction,
  type GitHubRunInfo,
  runAction,
} from "./action.ts";
export {
  booleanInput,
  type CamelKeys,
  camel,
  enumInput,
  inputEnvName,
  listInput,
  optionalString,
  parseInputs,
  readRawInputs,
} from "./inputs.ts";
export { escapeMarkdown, SUMMARY_LIMIT_BYTES, SummaryBuilder } from "./summary.ts";
