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
  type BumpInput,
  type BumpOutcome,
  bump,
  bumpBranch,
  bumpPullRequestBody,
  type EnvironmentOutcome,
  isLocalRepo,
  skippedLines,
} from "./bump.ts";
export {
  azureSignInInputs,
  booleanInput,
  enumInput,
  listInput,
  loadWorkspaceConfig,
  optionalString,
  requiredString,
  summaryInput,
  withAzureSignIn,
} from "./inputs.ts";
export { type CreateOctokitOptions, createOctokit, type GitHubClient } from "./octokit.ts";
export {
  type AlreadyInBase,
  type BumpPullRequestRequest,
  type BumpPullRequestResult,
  type PullRequestUpsert,
  type TokenSource,
  type TreeReader,
  tokenWarning,
  type UpsertDeps,
  upsertBumpPullRequest,
} from "./pulls.ts";
export {
  type CamelKeys,
  camel,
  checkRequired,
  coreBoolean,
  givenInput,
  inputEnvName,
  parseInputs,
  readRawInputs,
} from "./raw-inputs.ts";
export { escapeMarkdown, SUMMARY_LIMIT_BYTES, SummaryBuilder } from "./summary.ts";
