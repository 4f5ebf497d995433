export { addTeam, type NewTeam } from "./add.ts";
export {
  type AllowedCall,
  allowedCalls,
  type CallEnd,
  type WorkloadIdentity,
  workloadIdentities,
} from "./graph.ts";
export {
  BICEP_PARAMETERS,
  GENERATED_HEADER,
  IDENTITY_CONFIGMAP,
  identityName,
  imageInEffect,
  type RenderOptions,
  type RenderResult,
  renderTeams,
  TOKEN_AUDIENCE,
} from "./render.ts";
export { parseTeamsConfig, qualify, validateTeams } from "./validate.ts";
export { checkRender, type DriftResult, readRender, type WriteResult, writeRender } from "./write.ts";
