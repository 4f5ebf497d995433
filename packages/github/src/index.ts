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
  type CamelKeys,
  camel,
  enumInput,
  inputEnvName,
  listInput,
  loadWorkspaceConfig,
  optionalString,
  parseInputs,
  readRawInputs,
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
export { escapeMarkdown, SUMMARY_LIMIT_BYTES, SummaryBuilder } from "./summary.ts";
