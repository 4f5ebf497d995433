export { normaliseRepository, type ParsedImage, parseImage } from "./image.ts";
export { applyChanges, diskReader } from "./local.ts";
export { locateImage } from "./locate.ts";
export {
  type Environment,
  type PlanOptions,
  type PromotionInput,
  type PromotionVerdict,
  planBump,
  promotionCheck,
} from "./plan.ts";
export { type HelmRun, type HelmTemplate, helmTemplate } from "./render.ts";
export type {
  BumpPlan,
  BumpRequest,
  BumpWarning,
  FileChange,
  ImageReference,
  RepoReader,
  SkippedReference,
} from "./types.ts";
